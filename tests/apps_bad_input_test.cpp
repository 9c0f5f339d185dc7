// Every command on the inputs people get wrong: one row per case, each run as
// the real binary. A row passes when the command exits non-zero (never by a
// signal), its stderr holds the fragment on one line with no LibTorch
// backtrace, and the output file that was already there is untouched.
// Adding a case is adding a row.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "bohmflow/checkpoint.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/npz.hpp"
#include "bohmflow/potential_grid.hpp"
#include "bohmflow/scripted_system.hpp"
#include "test_support.hpp"

namespace bohmflow {
namespace {

// A binary of build/apps and its flags: {bad} is the folder of bad files,
// {out} an existing file, {src} the source tree. With `rank1` set, two Gloo
// ranks run it, {rank} replaced by `rank0` on rank 0 and by `rank1` on rank 1.
struct BadInput {
  const char* name;      // the test's name
  const char* command;
  const char* fragment;  // what stderr must say (on every rank)
  const char* rank0 = "";
  const char* rank1 = nullptr;
};

void PrintTo(const BadInput& row, std::ostream* out) { *out << row.name; }

// A TorchScript module of tests/data/systems.
#define SCRIPT(name) "{src}/tests/data/systems/" name ".pt"

// A tiny training run of 2 epochs; the rows add the system and M.
#define TINY_TRAIN "train --hidden-dims 8 8 --n-epochs 2 --threads 1 --checkpoint-path {out} "

const BadInput kCases[] = {
    // Sizes and words bench_core used to crash or abort on.
    {"BenchCoreZeroParticles", "bench_core --M 0 --data-out {out}", "--M 0: must be >= 1"},
    {"BenchCoreZeroDimension", "bench_core --d 0 --data-out {out}", "--d 0: must be >= 1"},
    {"BenchCoreZeroWidth", "bench_core --hidden-dims 0 --data-out {out}", "--hidden-dims 0: must be >= 1"},
    {"BenchCoreNegativeTime", "bench_core --T -1 --data-out {out}", "--T"},
    {"BenchCoreUnknownBaseline", "bench_core --baseline foo --data-out {out}", "--baseline: baseline 'foo'"},
    // Sizes that cannot fit are refused before allocating, naming the flag.
    {"TrainTeraParticles", "train --M 1000000000000 --checkpoint-path {out}", "--M 1000000000000: an epoch of"},
    {"TrainHugeWidth", "train --hidden-dims 100000 --checkpoint-path {out}", "lower --chunk"},
    {"Fig4TeraParticles",
     "fig4_moments --checkpoint {src}/checkpoints/morse_d4.npz --fft-ref {src}/data/fft_ref_morse_d4.npz "
     "--M-test 1000000000000 --data-out {out}",
     "--M-test 1000000000000: propagating"},
    {"TabulateInfiniteBox", "tabulate_potential --N 8 --L inf -o {out}", "--L: must be finite, got inf"},
    {"FftGridTooLarge", "compute_fft_reference --d 6 --N 4096 --output {out}", "needs"},
    {"FftInfiniteBeta", "compute_fft_reference --beta inf --N 8 --output {out}",
     "morse_chain: parameter 'beta' = inf must be finite"},
    {"FftOverflowingPotential", "compute_fft_reference --d 1 --beta 1000 --N 8 --output {out}", "V = inf at x = (-8)"},
    {"FftUnknownPlanner", "compute_fft_reference --d 1 --N 16 --fftw-planner fast --output {out}",
     "--fftw-planner: fftw_planner 'fast': must be estimate or measure"},
    // Flags whose bounds are named without DBL_MAX's digits.
    {"TrainZeroFrequencies", TINY_TRAIN "--d 2 --M 8 --n-freq 0", "must be >= 1, got 0"},
    {"TrainWordChunk", TINY_TRAIN "--d 2 --M 8 --chunk lots", "--chunk: 'lots': expected auto or a number"},
    {"TrainZeroTime", TINY_TRAIN "--d 2 --M 8 --T 0", "must be > 0, got 0"},
    {"TrainDivergingRate", TINY_TRAIN "--d 2 --M 8 --lr 1e300", "non-finite loss at epoch 2"},
    {"TrainEndlessTime", TINY_TRAIN "--d 2 --M 8 --T 1e300", "leapfrog steps (T = 1e+300, dt = 0.01): at most 1e+09"},
    // Outputs that cannot be written are found before the work.
    {"TrainUnwritableCheckpoint", "train --d 2 --M 8 --T 0.05 --checkpoint-path {bad}/garbage.npz/run.npz",
     "--checkpoint-path '"},
    {"FftUnwritableOutput", "compute_fft_reference --d 1 --N 16 --output {bad}/garbage.npz/moments.npz",
     "--output '"},
    {"Fig4UnwritableOutput",
     "fig4_moments --checkpoint {src}/checkpoints/morse_d4.npz --fft-ref {src}/data/fft_ref_morse_d4.npz "
     "--data-out {bad}/garbage.npz/out.npz",
     "--data-out"},
    // Files that are not what they claim.
    {"TrainResumeFromGarbage", TINY_TRAIN "--d 2 --M 8 --T 0.05 --resume {bad}/garbage.npz", "garbage.npz"},
    {"FoldStatisticsGarbageCheckpoint", "fold_statistics --checkpoint {bad}/garbage.npz --data-out {out}",
     "garbage.npz"},
    {"Fig4ReferenceOfAnotherDimension",
     "fig4_moments --checkpoint {src}/checkpoints/morse_d4.npz --fft-ref {src}/data/fft_ref_morse_d2.npz "
     "--M-test 8 --data-out {out}",
     "holds a d = 2 reference but --checkpoint"},
    {"Fig4MisshapedReference",
     "fig4_moments --checkpoint {src}/checkpoints/morse_d4.npz --fft-ref {bad}/misshaped_ref.npz --M-test 8 "
     "--data-out {out}",
     "misshaped_ref.npz"},
    // Weights holding NaN are refused by every command that loads them, naming the parameter.
    {"FoldStatisticsNanWeights", "fold_statistics --checkpoint {bad}/nan.npz --data-out {out}", "are not finite"},
    {"BenchmarkMomentsNanWeights", "benchmark_moments --checkpoint {bad}/nan.npz --no-reference --data-out {out}",
     "key 'params/"},
    {"GradientSpreadNanWeights", "gradient_spread --checkpoint {bad}/nan.npz", "are not finite"},
    {"ScoreFieldNanWeights", "score_field --checkpoint {bad}/nan.npz --data-out {out}", "are not finite"},
    {"ScoreFieldNanTime", "score_field --checkpoint {src}/checkpoints/morse_d4.npz --times nan --data-out {out}",
     "ScoreSliceOptions::times: t = nan: must be finite and >= 0"},
    {"SpectrumNanEnergy", "spectrum --input {src}/data/fft_ref_morse_d4.npz --E-min nan --output {out}",
     "--E-min: must be finite, got nan"},
    {"ScoreFieldHugeSlice",
     "score_field --checkpoint {src}/checkpoints/morse_d4.npz --grid-N 2000000000 --data-out {out}",
     "score_field --grid-N"},
    {"KlDivergenceNanWeights", "kl_divergence --checkpoint {bad}/nan.npz --psi {bad}/garbage.npz --data-out {out}",
     "are not finite"},
    {"SpectrumReferenceWithoutA", "spectrum --input {bad}/without_a.npz --output {out}",
     "without_a.npz: no key 'a' (the autocorrelation)"},
    {"SpectrumEmptyRange", "spectrum --input {src}/data/fft_ref_morse_d4.npz --E-min 3 --E-max 1 --output {out}",
     "E_max > E_min"},
    {"AutocorrelationReferenceWithoutA",
     "autocorrelation --checkpoint {src}/checkpoints/morse_d2.npz --T 0.05 --M-test 8 --fft-ref {bad}/without_a.npz "
     "--data-out {out}",
     "without_a.npz: no key 'a'"},
    {"AutocorrelationReferenceOnOtherTimes",
     "autocorrelation --checkpoint {src}/checkpoints/morse_d2.npz --T 0.05 --dt 0.007 --M-test 8 "
     "--fft-ref {src}/data/fft_ref_morse_d4.npz --data-out {out}",
     "no row at t = "},
    {"AutocorrelationNanWeights", "autocorrelation --checkpoint {bad}/nan.npz --data-out {out}", "are not finite"},
    {"AutocorrelationTeraParticles",
     "autocorrelation --checkpoint {src}/checkpoints/morse_d2.npz --M-test 1000000000000 --data-out {out}",
     "--M-test 1000000000000: propagating"},
    {"Fig4NanWeights",
     "fig4_moments --checkpoint {bad}/nan.npz --fft-ref {src}/data/fft_ref_morse_d2.npz --M-test 8 --data-out {out}",
     "are not finite"},
    // Words and systems that do not fit the command.
    {"FoldStatisticsWeightedRule", "fold_statistics --checkpoint {src}/checkpoints/morse_d2.npz --sampling gauss-hermite",
     "--sampling"},
    {"Fig1NeedsOneDimension", "fig1_doublewell --potential morse_chain --output {out}", "d"},
    {"ExtractTrainingLogMissingFile", "extract_training_log -o {out} {bad}/no_such.log", "no_such.log"},
    // TorchScript potentials (--potential script) and tabulated ones (--potential-grid).
    {"TrainScriptWithoutFile", TINY_TRAIN "--potential script --d 2 --initial-mean 1 --M 8 --T 0.05",
     "--potential script needs --potential-file"},
    {"TrainFileWithoutScript", TINY_TRAIN "--d 2 --M 8 --T 0.05 --potential-file " SCRIPT("henon_heiles"),
     "needs --potential script"},
    {"TrainScriptMissingFile", TINY_TRAIN "--potential script --potential-file {bad}/no_such.pt --d 2 --initial-mean 1",
     "--potential-file '"},
    {"TrainScriptNotTorchScript", TINY_TRAIN "--potential script --potential-file {bad}/garbage.npz --d 2 --initial-mean 1",
     "is not a TorchScript module"},
    {"TrainScriptWrongShape", TINY_TRAIN "--potential script --potential-file " SCRIPT("wrong_shape") " --d 2 --initial-mean 1",
     "returned shape [2, 1], expected (2)"},
    {"TrainScriptForwardFails", TINY_TRAIN "--potential script --potential-file " SCRIPT("fails") " --d 2 --initial-mean 1",
     "forward(x) failed on a (2, 2) float64 input"},
    {"TrainScriptNotFiniteAtTheMean",
     TINY_TRAIN "--potential script --potential-file " SCRIPT("not_finite") " --d 2 --initial-mean 0",
     "not finite at the initial mean (V = -inf, grad V = ("},
    {"TrainScriptWithoutMean", TINY_TRAIN "--potential script --potential-file " SCRIPT("henon_heiles") " --d 2",
     "the initial mean is required"},
    {"TrainScriptIndefiniteTrap",
     TINY_TRAIN "--potential script --potential-file " SCRIPT("henon_heiles") " --d 2 --param mean_0=0 --param mean_1=-5 --baseline trap",
     "not positive definite"},
    {"TrainScriptWithoutMinimum", TINY_TRAIN "--potential script --potential-file " SCRIPT("slope") " --d 2 --initial-mean 1",
     "did not converge in 200 Newton iterations (|grad V| = 1): choose another baseline (--baseline trap or none)"},
    {"TrainScriptUnknownParameter",
     TINY_TRAIN "--potential script --potential-file " SCRIPT("henon_heiles") " --initial-mean 2 2 --param kappa=1",
     "unknown parameter 'kappa'"},
    {"BenchmarkMomentsScriptOfAnotherHash",
     "benchmark_moments --checkpoint {bad}/scripted.npz --potential-file " SCRIPT("henon_heiles")
     " --no-reference --M-test 8 --data-out {out}",
     "but checkpoint '"},
    {"Fig4ScriptAgainstAReferenceOfAnotherState",
     "fig4_moments --checkpoint {bad}/scripted.npz --fft-ref {src}/data/fft_ref_morse_d2.npz --M-test 8 --data-out {out}",
     "has the initial mean_0 = 1.000000 but --checkpoint"},
    {"BenchmarkMomentsWithoutAnyReference",
     "benchmark_moments --checkpoint {src}/checkpoints/morse_d2.npz --M-test 8 --data-out {out}",
     "--fft-ref (or --no-reference) is required"},
    {"ScoreFieldScriptForABuiltInCheckpoint",
     "score_field --checkpoint {src}/checkpoints/morse_d2.npz --potential-file " SCRIPT("henon_heiles") " --data-out {out}",
     "is of the built-in system 'morse_chain'"},
    {"TabulateTooLarge", "tabulate_potential --potential henon_heiles --d 6 --N 100000 -o {out}",
     "--N 100000: tabulating V on"},
    {"TabulateNotFiniteOnTheGrid",
     "tabulate_potential --potential script --potential-file " SCRIPT("not_finite") " --d 1 --initial-mean 1 --N 9 -o {out}",
     "the propagator needs a finite V everywhere"},
    {"FftGridNotUniform", "compute_fft_reference --potential-grid {bad}/bent_grid.npz --output {out}",
     "key 'axis_1': is not uniform and symmetric"},
    {"FftGridOfAnotherDimension", "compute_fft_reference --potential-grid {bad}/grid.npz --d 3 --output {out}",
     "the grid has 2 axes but the system has d = 3"},
    {"FftGridOfAnotherN", "compute_fft_reference --potential-grid {bad}/grid.npz --N 64 --output {out}",
     "--N 64 disagrees with --potential-grid"},
    {"FftGridAndPotential",
     "compute_fft_reference --potential morse_chain --potential-grid {bad}/grid.npz --output {out}", "excludes"},
    {"FftGridUnknownParameter", "compute_fft_reference --potential-grid {bad}/grid.npz --lam 0.3 --output {out}",
     "unknown parameter 'lam'"},
    {"FftGridWithoutState", "compute_fft_reference --potential-grid {bad}/bare_grid.npz --output {out}",
     "the initial mean is required"},
    {"FftGridGarbage", "compute_fft_reference --potential-grid {bad}/garbage.npz --output {out}", "garbage.npz"},
    // Ranks that disagree stop together before training, naming the setting.
    {"RanksWithDifferentDimensions", TINY_TRAIN "--T 0.05 --M 8 {rank}", "system.d", "--d 2", "--d 3"},
    {"RanksWithDifferentBatches", TINY_TRAIN "--T 0.05 --d 2 {rank}", "training.M", "--M 8", "--M 16"},
    {"RanksWithDifferentSeeds", TINY_TRAIN "--T 0.05 --d 2 --M 8 {rank}", "training.seed", "--seed 1", "--seed 5"},
    {"RanksWithDifferentRates", TINY_TRAIN "--T 0.05 --d 2 --M 8 {rank}", "training.lr", "--lr 0.01", "--lr 0.5"},
};

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
    text.replace(at, key.size(), value);
  }
  return text;
}

// The folder of bad inputs: random bytes, weights holding NaN, a reference
// whose moments have the wrong shape.
std::string make_bad_files() {
  const auto dir = scratch_path("bad");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "garbage.npz", std::ios::binary) << "PK\x03\x04 this is not a zip archive at all";
  auto checkpoint = Npz::load(std::string(BOHMFLOW_SOURCE_DIR) + "/checkpoints/morse_d2.npz");
  for (const auto& key : checkpoint.keys()) {
    if (key.rfind("params/", 0) == 0) {
      auto values = checkpoint.tensor(key).clone();
      values.view({-1})[0] = std::nan("");
      checkpoint.set(key, values);
      break;
    }
  }
  checkpoint.save((dir / "nan.npz").string());
  auto reference = Npz::load(std::string(BOHMFLOW_SOURCE_DIR) + "/data/fft_ref_morse_d4.npz");
  reference.set("means", torch::zeros({10, 4}, torch::kFloat64));
  reference.save((dir / "misshaped_ref.npz").string());
  // A reference as written before a(t) was stored: every key but "a".
  const auto full = Npz::load(std::string(BOHMFLOW_SOURCE_DIR) + "/data/fft_ref_morse_d4.npz");
  Npz without_a;
  for (const auto& key : full.keys()) {
    if (key != "a") without_a.set(key, full.at(key));
  }
  without_a.save((dir / "without_a.npz").string());
  // A checkpoint of a TorchScript potential (the Morse chain's script).
  Checkpoint scripted;
  scripted.model.potential = "script";
  scripted.model.system = {{"d", 2}, {"mean", 0.5}};
  scripted.model.script = read_script_file(std::string(BOHMFLOW_SOURCE_DIR) + "/tests/data/systems/morse_chain.pt");
  scripted.model.network.hidden_dims = {8, 8};
  scripted.model.network.n_freq = 2;
  store_parameters(*build_model(scripted.model).network, scripted);
  save_checkpoint((dir / "scripted.npz").string(), scripted);
  // Tables of V: a good one, one with a bent axis, one without the state.
  PotentialGrid grid;
  grid.d = 2;
  grid.N = 16;
  grid.L = 5.0;
  grid.V.assign(256, 1.0);
  save_potential_grid(grid, (dir / "bare_grid.npz").string());
  grid.state = {{"mean_0", 1.0}, {"mean_1", 1.0}};
  save_potential_grid(grid, (dir / "grid.npz").string());
  auto bent = Npz::load((dir / "grid.npz").string());
  auto axis = grid_axis(16, 5.0);
  axis[4] += 0.05;
  bent.set("axis_1", NpyArray::from_doubles(axis, {16}));
  bent.save((dir / "bent_grid.npz").string());
  return dir.string();
}

class AppsBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(AppsBadInput, FailsWithOneLineNamingTheCause) {
  const auto& row = GetParam();
  const std::string bad = make_bad_files(), out = scratch_path("existing.npz").string();
  const std::string kept = "an output from before, which a failed run must leave alone";
  std::ofstream(out) << kept;
  std::string command = std::string(BOHMFLOW_APPS_DIR) + "/" + row.command;
  command = substitute(substitute(substitute(command, "{bad}", bad), "{out}", out), "{src}", BOHMFLOW_SOURCE_DIR);
  const std::string log = scratch_path("log").string();

  std::vector<std::string> logs;
  if (row.rank1 == nullptr) {
    const int status = std::system((command + " > " + log + " 2>&1").c_str());
    ASSERT_TRUE(WIFEXITED(status)) << command << " ended by a signal";
    EXPECT_NE(WEXITSTATUS(status), 0) << command << "\n" << read_text(log);
    logs.push_back(log);
  } else {
    BOHMFLOW_REQUIRE_GLOO();
    command += " --device cpu";  // Gloo ranks, also where a GPU is present
    const int port = free_port();
    std::string script = "(";
    for (int rank = 0; rank < 2; ++rank) {
      const std::string rank_log = log + "." + std::to_string(rank);
      script += "(RANK=" + std::to_string(rank) + " LOCAL_RANK=" + std::to_string(rank) +
                " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " +
                substitute(command, "{rank}", rank == 0 ? row.rank0 : row.rank1) + " --dist-timeout 60 > " +
                rank_log + " 2>&1; echo $? > " +
                rank_log + ".rc) & ";
      logs.push_back(rank_log);
    }
    ASSERT_EQ(std::system((script + "wait)").c_str()), 0);
    for (const auto& rank_log : logs) {
      const int rc = std::stoi(read_text(rank_log + ".rc"));
      EXPECT_TRUE(rc != 0 && rc < 128) << rank_log << " exited " << rc << "\n" << read_text(rank_log);
    }
  }
  for (const auto& path : logs) {
    const std::string text = read_text(path);
    EXPECT_NE(text.find(row.fragment), std::string::npos) << command << "\n" << text;
    EXPECT_EQ(text.find("Exception raised from"), std::string::npos) << text;
    EXPECT_EQ(text.find("frame #"), std::string::npos) << text;
    EXPECT_EQ(text.find("terminate called"), std::string::npos) << text;
  }
  EXPECT_EQ(read_text(out), kept) << "the failed run changed " << out;
}

INSTANTIATE_TEST_SUITE_P(Table, AppsBadInput, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<BadInput>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace bohmflow
