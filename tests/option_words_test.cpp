// The words of the enum options: every value spelled and parsed back, the
// spellings of the command line and of checkpoints' JSON, and the message for
// a word that is none of them.
#include "bohmflow/option_words.hpp"

#include <gtest/gtest.h>

#include "bohmflow/baseline.hpp"
#include "bohmflow/fft_reference.hpp"
#include "bohmflow/fisher_loss.hpp"
#include "bohmflow/sampling.hpp"
#include "bohmflow/score_network.hpp"

namespace bohmflow {
namespace {

template <typename Enum>
std::vector<std::string> round_trip() {
  std::vector<std::string> words;
  for (const auto& entry : OptionWords<Enum>::words) {
    EXPECT_EQ(parse_option<Enum>(to_string(entry.first)), entry.first) << entry.second;
    words.push_back(to_string(entry.first));
  }
  return words;
}

TEST(OptionWords, EveryValueRoundTripsWithTheCheckpointSpellings) {
  EXPECT_EQ(round_trip<Conditioning>(), (std::vector<std::string>{"film", "concat"}));
  EXPECT_EQ(round_trip<Symmetry>(), (std::vector<std::string>{"none", "permutation", "deepsets"}));
  EXPECT_EQ(round_trip<BaselineKind>(), (std::vector<std::string>{"minimum", "trap", "variational", "none"}));
  EXPECT_EQ(round_trip<CausticMeasure>(), (std::vector<std::string>{"det", "singular"}));
  EXPECT_EQ(round_trip<SamplingMethod>(), (std::vector<std::string>{"mc", "sobol", "gauss-hermite"}));
  EXPECT_EQ(round_trip<FftwPlanner>(), (std::vector<std::string>{"estimate", "measure"}));
}

TEST(OptionWords, AnUnknownWordNamesTheOptionAndTheWords) {
  try {
    parse_option<Symmetry>("sorted");
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "symmetry 'sorted': must be none, permutation or deepsets");
  }
  EXPECT_THROW(parse_option<Conditioning>("FiLM"), std::invalid_argument);  // case matters, as in the JSON
  EXPECT_THROW(parse_option<BaselineKind>(""), std::invalid_argument);
}

}  // namespace
}  // namespace bohmflow
