#!/usr/bin/python3
"""Figure 2: the self-consistent training loop, as a schematic (reads no data).

Particles drawn from the initial density move along the Bohmian flow whose
quantum potential Q comes from the network's own score s_theta; the
deformation gradient F carried along gives the density log rho_theta the flow
implies, whose gradient is the score target; the Fisher loss between s_theta
and that target updates theta, which changes the flow of the next epoch.

    /usr/bin/python3 scripts/plot_fig2.py --output figures/fig2_framework.png
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figstyle  # noqa: E402

# (x, y) centre, title, formula; coordinates in a 12 x 5 box.
STAGES = {
    'sample': (1.5, 4.05, 'sample', r'$x_0 \sim \rho_0 = |\psi_0|^2$'),
    'flow': (5.5, 4.05, 'Bohmian flow',
             r'$m\,\ddot{x} = -\nabla\left(V + Q[s_\theta]\right)$' '\n'
             r'with $F = \partial x_t / \partial x_0$'),
    'density': (9.95, 4.05, 'density along the flow',
                r'$\log\rho_\theta(x_t) = \log\rho_0(x_0) - \log|\det F|$'),
    'target': (9.95, 0.95, 'score target',
               r'$\nabla_x \log\rho_\theta = F^{-\top}\,\nabla_{x_0}\log\rho_\theta$'),
    'loss': (5.5, 0.95, 'Fisher loss',
             r'$\mathcal{L} = \mathbb{E}\,\|s_\theta(x_t, t) - \nabla_x\log\rho_\theta\|^2$'),
    'update': (1.5, 0.95, r'update $\theta$', r'$\theta \leftarrow \theta - \eta\,\nabla_\theta\mathcal{L}$ (Adam)'),
    'network': (5.5, 2.5, r'score network $s_\theta(x, t)$',
                r'$Q = -\frac{\hbar^2}{4m}\left(\nabla\!\cdot s_\theta + \frac{1}{2}|s_\theta|^2\right)$'),
}
WIDTH = {'sample': 2.6, 'flow': 3.2, 'density': 3.7, 'target': 3.7, 'loss': 3.7, 'update': 2.6,
         'network': 3.5}
HEIGHT = 1.05
FILL = {'network': '#fde0c5', 'loss': '#dbe9f6', 'update': '#dbe9f6'}

# (from, to, label, label side): the loop, in order.
ARROWS = [
    ('sample', 'flow', '', 0),
    ('flow', 'density', r'$x_t,\ F$', 1),
    ('density', 'target', '', 0),
    ('target', 'loss', '', 0),
    ('loss', 'update', '', 0),
    ('update', 'network', r'$\theta$', 1),
    ('network', 'flow', r'$Q[s_\theta]$', 1),
    ('network', 'loss', r'$s_\theta$', 1),
]


def parse_args():
    p = figstyle.parser(__doc__, output='figures/fig2_framework.png', dpi=200)
    return p.parse_args()


def edge_point(name, towards):
    """Where the segment from the centre of box `name` to `towards` leaves the box."""
    x, y = STAGES[name][:2]
    dx, dy = towards[0] - x, towards[1] - y
    half_w, half_h = WIDTH[name] / 2 + 0.06, HEIGHT / 2 + 0.06
    scale = min(half_w / abs(dx) if dx else float('inf'), half_h / abs(dy) if dy else float('inf'))
    return x + dx * scale, y + dy * scale


def main():
    args = parse_args()
    plt = figstyle.pyplot()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(11.0, 4.6))
    ax.set_xlim(0, 12)
    ax.set_ylim(0.2, 4.8)
    ax.axis('off')
    for name, (x, y, title, formula) in STAGES.items():
        w = WIDTH[name]
        ax.add_patch(FancyBboxPatch((x - w / 2, y - HEIGHT / 2), w, HEIGHT,
                                    boxstyle='round,pad=0.02,rounding_size=0.12',
                                    fc=FILL.get(name, '#f2f2f2'), ec='0.25', lw=1.0))
        ax.text(x, y + 0.24, title, ha='center', va='center', fontsize=10.5, fontweight='bold')
        ax.text(x, y - 0.17, formula, ha='center', va='center', fontsize=9.5, linespacing=1.5)
    for start, end, label, side in ARROWS:
        a = edge_point(start, STAGES[end][:2])
        b = edge_point(end, STAGES[start][:2])
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle='-|>', mutation_scale=14, lw=1.3,
                                     color='#b2182b' if start == 'network' else '0.2'))
        if label:
            mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
            vertical = abs(b[0] - a[0]) < abs(b[1] - a[1])
            # Beside a vertical arrow, above a horizontal one, above-left of a slanted one.
            dx, dy = (0.12, 0.0) if vertical else (0.0, 0.12)
            if abs(b[0] - a[0]) > 0.3 and abs(b[1] - a[1]) > 0.3:
                dx, dy = -0.15, 0.12
            ax.text(mx + dx, my + dy, label,
                    ha='left' if vertical else ('right' if dx < 0 else 'center'),
                    va='center' if vertical else 'bottom',
                    fontsize=9.5, color='#b2182b' if start == 'network' else '0.2')
    ax.text(6.0, 4.72, 'one training epoch: the flow is driven by the score being trained',
            ha='center', va='center', fontsize=10, style='italic', color='0.3')
    figstyle.save(fig, args.output, args.dpi)
    plt.close(fig)


if __name__ == '__main__':
    main()
