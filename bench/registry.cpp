// bench/registry.cpp: the list of benchmarks; each lives in its own file.
#include <ctime>
#include <fstream>
#include <string>

#include "bench/bench.hpp"

namespace smtplab::bench {

int run_engine(std::ostream& out, const Options& options);
int run_net(std::ostream& out, const Options& options);
int run_gui(std::ostream& out, const Options& options);
int run_mail(std::ostream& out, const Options& options);
int run_smtp(std::ostream& out, const Options& options);

namespace {
const Benchmark kAll[] = {
    {"engine", "event queue: hold model and ping-pong vs a bare std::priority_queue loop", &run_engine},
    {"net", "TCP bulk 10 MB (lossless, 5% loss); full SMTP sessions over DNS+TCP at 1,000 and 10,000 concurrent", &run_net},
    {"mail", "the mail system: 100 domains, 10,000 users, 100,000 messages, 1% loss, outages; ratio 100k/10k", &run_mail},
    {"smtp", "in-memory SMTP client+server machines: full transactions per second (target >= 200,000/s)", &run_smtp},
    {"gui", "CPU time of one frame of the sequence diagram + event list at 1e3, 1e5, 1e6 records", &run_gui},
};
}  // namespace

std::span<const Benchmark> all() { return kAll; }

namespace {
long long status_field(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::string(field).size())) * 1024;
  }
  return 0;
}
}  // namespace

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long long peak_rss_bytes() { return status_field("VmHWM:"); }
long long current_rss_bytes() { return status_field("VmRSS:"); }

}  // namespace smtplab::bench
