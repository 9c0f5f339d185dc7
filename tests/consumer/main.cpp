// A downstream program that only knows find_package(bohmflow).
#include <bohmflow/bohmflow.hpp>
#include <iostream>

int main() {
  auto system = bohmflow::make_system("harmonic", {{"d", 1}});
  auto x = torch::zeros({1, 1}, torch::kFloat64);
  std::cout << "V(0) = " << system->potential(x).item<double>() << "\n";
  return system->potential(x).item<double>() == 0.0 ? 0 : 1;
}
