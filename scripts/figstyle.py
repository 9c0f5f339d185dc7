"""Shared look and output of the figure scripts (plot_fig*.py): one place for
the matplotlib backend, fonts, mode colours and the PNG writer."""

import os

# Mode i of a chain gets MODE_COLORS[i % len(MODE_COLORS)] in every figure.
MODE_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']


def parser(doc, output, dpi):
    """The figure scripts' argument parser with --output and --dpi (their defaults given)."""
    import argparse
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--output', default=output, help='output image')
    p.add_argument('--dpi', type=int, default=dpi)
    return p


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, with the figures' fonts."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.rcParams.update({
        'font.size': 11, 'axes.labelsize': 12, 'legend.fontsize': 9,
        'xtick.labelsize': 10, 'ytick.labelsize': 10,
        'mathtext.fontset': 'cm',
    })
    return plt


def panel_label(ax, text):
    """'(a)', '(b)', ... above the upper left corner of a panel (never on the data)."""
    ax.set_title(text, loc='left', fontsize=12, fontweight='bold')


def save(fig, path, dpi):
    """Writes the figure (creating its folder) and says where."""
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches='tight')
    print(f'saved {path}')
