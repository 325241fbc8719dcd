// app/cmd_bench.cpp: `smtplab bench [NAME]`: prints figures and ratios.
#include <iostream>

#include "app/commands.hpp"
#include "bench/bench.hpp"

namespace smtplab::app {

void register_bench(CLI::App& app, Outcome& outcome) {
  struct Args {
    std::string name;
    bool quick = false;
    bool list = false;
  };
  auto args = std::make_shared<Args>();
  std::string names;
  for (const auto& b : bench::all()) names += (names.empty() ? "" : ", ") + std::string(b.name);
  CLI::App* sub = app.add_subcommand("bench", "Run benchmarks (all, or one of: " + names + ")");
  sub->add_option("name", args->name, "Benchmark to run (default: all)");
  sub->add_flag("--quick", args->quick, "Small sizes: a smoke run, not a measurement");
  sub->add_flag("--list", args->list, "List the benchmarks");
  sub->callback([args, names, &outcome] {
    if (args->list) {
      for (const auto& b : bench::all()) std::cout << b.name << ": " << b.description << '\n';
      return;
    }
    bool found = args->name.empty();
    int code = kExitOk;
    for (const auto& b : bench::all()) {
      if (!args->name.empty() && b.name != args->name) continue;
      found = true;
      std::cout << "== bench " << b.name << " ==\n";
      bench::Options opt;
      opt.quick = args->quick;
      if (b.run(std::cout, opt) != 0) code = kExitFailed;
    }
    if (!found) {
      std::cerr << "smtplab bench: unknown benchmark \"" << args->name << "\"; expected one of: " << names << '\n';
      code = kExitUsage;
    }
    outcome.code = code;
  });
}

}  // namespace smtplab::app
