// app/main.cpp: the smtplab executable: parses the command line and
// dispatches to a subcommand. No logic lives here.
#include <iostream>

#include "app/commands.hpp"

int main(int argc, char** argv) {
  using namespace smtplab::app;
  CLI::App app{"smtplab: an SMTP protocol simulator and teaching lab.\n"
               "With no command, opens the lab on the built-in scenario (Bob sends a message to Alice)."};
  app.set_version_flag("--version", std::string("smtplab ") + SMTPLAB_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  Outcome outcome;
  register_run(app, outcome);
  register_sweep(app, outcome);
  register_validate(app, outcome);
  register_bench(app, outcome);
#ifdef SMTPLAB_HAVE_BRIDGE
  register_serve(app, outcome);
#endif
  register_lesson(app, outcome);
#ifdef SMTPLAB_HAVE_GUI
  register_gui(app, outcome);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "smtplab: " << e.what() << " (see smtplab --help)\n";
    return kExitUsage;
  }
  if (app.get_subcommands().empty()) return run_default(std::cout, std::cerr);
  return outcome.code;
}
