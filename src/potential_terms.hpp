// The terms of each potential (system.hpp), written once for both of their
// users: a double at one grid point (system.cpp, the FFT reference) and a
// tensor of particles (potentials.cpp, the Bohmian dynamics). `exp` is found
// by argument-dependent lookup for tensors and from <cmath> for doubles.
#pragma once

#include <cmath>

#include "bohmflow/system.hpp"

namespace bohmflow::detail {

// Morse on-site term D (1 − e^{−βx})².
template <typename T>
T morse_site(const T& x, const MorseChainOptions& o) {
  using std::exp;
  const T well = 1.0 - exp(-o.beta * x);
  return o.D * (well * well);
}

// Double-well term D (x²/a² − 1)².
template <typename T>
T double_well_site(const T& x, const DoubleWellOptions& o) {
  const double a2 = o.a * o.a;
  const T shape = x * x / a2 - 1.0;
  return o.D * (shape * shape);
}

// Harmonic term ½ k (x − a)², k = m ω².
template <typename T, typename Scalar>
T harmonic_site(const T& x, const Scalar& k, const Scalar& centre) {
  const T offset = x - centre;
  return 0.5 * k * (offset * offset);
}

// Bosons' pair interaction f(r) = A exp(−r²/(2s₂)), A = g/(2√(2π s₂)).
inline double bosons_pair_amplitude(const InteractingBosonsOptions& o) {
  return o.g / (2.0 * std::sqrt(2.0 * M_PI * o.s2));
}
template <typename T>
T bosons_pair(const T& r, const InteractingBosonsOptions& o) {
  using std::exp;
  return bosons_pair_amplitude(o) * exp(-(r * r) / (2.0 * o.s2));
}

// Hénon–Heiles coupling of neighbours a = q_k, b = q_{k+1}: λ (a² b − b³/3).
template <typename T>
T henon_heiles_pair(const T& a, const T& b, const HenonHeilesOptions& o) {
  return o.lam * (a * a * b - b * b * b / 3.0);
}

}  // namespace bohmflow::detail
