// app/cmd_validate.cpp: `smtplab validate FILE...`: OK per file, or every error.
#include <iostream>

#include "app/commands.hpp"

namespace smtplab::app {

void register_validate(CLI::App& app, Outcome& outcome) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand("validate", "Check scenario files: prints OK per file, or every error");
  sub->add_option("files", *files, "Scenario JSON files")->required();
  sub->callback([files, &outcome] {
    int code = kExitOk;
    for (const std::string& f : *files) {
      LoadResult r = load_scenario_file(f);
      if (r.ok()) {
        std::cout << f << ": OK\n";
      } else {
        for (const ScenarioError& e : r.errors) std::cerr << e.format() << '\n';
        code = kExitUsage;
      }
    }
    outcome.code = code;
  });
}

}  // namespace smtplab::app
