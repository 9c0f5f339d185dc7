#!/usr/bin/python3
"""Smoke test of the figure scripts: runs every scripts/plot_*.py on small
synthetic NPZ inputs made here and checks that each writes a non-empty PNG
(and that plot_fig3 skips cleanly, with status 0 and no image, when its
training data is missing).

    /usr/bin/python3 tests/plot_scripts_smoke.py SOURCE_DIR WORK_DIR

Exit status 77 (ctest: skipped) when numpy or matplotlib is missing.
"""

import os
import subprocess
import sys

try:
    import numpy as np
    import matplotlib  # noqa: F401
except ImportError as error:
    print(f'skipped: {error}')
    sys.exit(77)


def write_inputs(work):
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 1.0, 21)
    x = np.linspace(-4.0, 4.0, 64)
    rho = np.exp(-(x[None, :] - 0.5 * np.sin(3 * t[:, None])) ** 2)
    np.savez(os.path.join(work, 'fig1.npz'), x_grid=x, t_arr=t, rho=rho,
             traj_x=np.cumsum(0.01 * rng.standard_normal((21, 5)), axis=0),
             V_grid=(x ** 2 / 4 - 1) ** 2, a=2.0, T=1.0, D=1.0)
    epochs = np.arange(1, 301)
    np.savez(os.path.join(work, 'fig3.npz'), epochs=epochs, losses=np.exp(-epochs / 50) + 1e-3,
             e_mean=2.0 + np.exp(-epochs / 80), e_mean_resolution=5e-5)
    np.savez(os.path.join(work, 'fft.npz'), E_exact=2.0)
    ft = np.linspace(0, 1, 11)
    means = np.stack([np.cos(ft * (i + 1)) for i in range(3)], axis=1)
    np.savez(os.path.join(work, 'fig4.npz'), t_learn=ft[::2], learned_means=means[::2] + 0.01,
             learned_sigmas=0.7 + 0.1 * means[::2], fft_t=ft, fft_means=means,
             fft_sigmas=0.7 + 0.1 * means, d=3, M_test=100)
    g = np.linspace(-3, 3, 24)
    X, Y = np.meshgrid(g, g, indexing='ij')
    fig5 = dict(gi=g, gj=g, di=0, dj=2, d=3, n_times=2)
    for k, shift in enumerate((0.0, 0.7)):
        fig5[f't_{k}'] = float(k)
        fig5[f's_i_{k}'] = (-(X - shift)).astype(np.float32)
        fig5[f's_j_{k}'] = (-Y).astype(np.float32)
        fig5[f'rho_{k}'] = np.exp(-((X - shift) ** 2 + Y ** 2) / 2).astype(np.float32)
    np.savez_compressed(os.path.join(work, 'fig5.npz'), **fig5)
    no_rho = {key: value for key, value in fig5.items() if not key.startswith('rho_')}
    np.savez(os.path.join(work, 'fig5_no_rho.npz'), **no_rho)
    # Two benchmark problems (the others missing), and the scaling tables.
    os.makedirs(os.path.join(work, 'benchmarks'), exist_ok=True)
    bt = np.linspace(0, 1, 101)
    for problem, d in (('harmonic_c0', 1), ('bosons_d2', 2)):
        ref = np.repeat((0.1 + 0.05 * np.sin(bt))[:, None], d, axis=1)
        np.savez(os.path.join(work, 'benchmarks', problem + '.npz'), t=bt, learned_vars=ref * 1.001,
                 ref_vars=ref, max_rel_var_error=1e-3, epochs=10, train_seconds=60.0)
    at = np.linspace(0, 2, 201)
    a = np.exp(-1j * 1.5 * at) * np.exp(-0.3 * at)
    np.savez(os.path.join(work, 'fft_a.npz'), t=at, a=a, E_exact=1.5, hbar=1.0)
    np.savez(os.path.join(work, 'learned_a.npz'), t=at[::10], a=a[::10] + 0.01, a_err=np.full(21, 0.01))
    E = np.linspace(0, 3, 61)
    for name in ('spectrum_fft', 'spectrum_learned'):
        np.savez(os.path.join(work, name + '.npz'), E=E, sigma=np.exp(-(E - 1.5) ** 2))
    sd = np.array([2.0, 4.0, 8.0])
    np.savez(os.path.join(work, 'scaling.npz'), d=sd, M=np.full(3, 128.0), steps=6,
             loss_grad_seconds=0.01 * sd ** 3, inference_seconds=0.001 * sd ** 2)


def main():
    source, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    write_inputs(work)
    scripts = os.path.join(source, 'scripts')
    runs = {
        'fig1.png': ['plot_fig1.py', '--data', 'fig1.npz', '--dpi', '50'],
        'fig2.png': ['plot_fig2.py', '--dpi', '50'],
        'fig3.png': ['plot_fig3.py', '--data', 'fig3.npz', '--fft-ref', 'fft.npz', '--dpi', '50'],
        'fig4.png': ['plot_fig4.py', '--data', 'fig4.npz', '--dpi', '50'],
        'fig5.png': ['plot_fig5.py', '--data', 'fig5.npz', '--dpi', '50'],
        'fig5_no_rho.png': ['plot_fig5.py', '--data', 'fig5_no_rho.npz', '--dpi', '50'],
        'fig3_missing.png': ['plot_fig3.py', '--data', 'missing.npz', '--dpi', '50'],
        'autocorrelation.png': ['plot_autocorrelation.py', '--learned', 'learned_a.npz', '--fft', 'fft_a.npz',
                                '--spectra', 'spectrum_learned.npz', 'spectrum_fft.npz', '--dpi', '50'],
        'benchmarks.png': ['plot_benchmarks.py', '--data-dir', 'benchmarks', '--dpi', '50'],
        'scaling.png': ['plot_scaling.py', '--data', 'scaling.npz', '--inference-data', 'none.npz',
                        '--fft-seconds', '2=1e-4', '3=5e-3', '--dpi', '50'],
    }
    failures = []
    for png, (script, *arguments) in runs.items():
        path = os.path.join(work, png)
        if os.path.exists(path):
            os.remove(path)
        result = subprocess.run([sys.executable, os.path.join(scripts, script), *arguments,
                                 '--output', path], cwd=work, capture_output=True, text=True)
        made = os.path.exists(path) and os.path.getsize(path) > 0
        expect_image = png != 'fig3_missing.png'
        ok = result.returncode == 0 and made == expect_image
        if png == 'fig3_missing.png':
            ok = ok and 'skipped' in result.stderr
        print(f'{"ok  " if ok else "FAIL"} {script} -> {png} (status {result.returncode})')
        if not ok:
            failures.append(png)
            print(result.stdout + result.stderr)
    if failures:
        sys.exit(f'failed: {", ".join(failures)}')


if __name__ == '__main__':
    main()
