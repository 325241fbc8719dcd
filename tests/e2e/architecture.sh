#!/usr/bin/env bash
# The layering rules of DESIGN.md, checked on the source tree:
# - sim/ never depends on gui/ (nor on OpenGL, GLFW or ImGui);
# - only sim/bridge touches sockets (Asio), only sim/pcap libpcap;
# - the protocol machines (sim/smtp, sim/pop3, sim/imap) are sans-IO: no
#   engine, no clock, no randomness, no network model, no sockets, no threads;
# - threads only where whole runs go side by side (sim/scenario/sweep.cpp);
# - nothing in sim/ draws randomness except through sim/engine/rng.hpp.
#   bash tests/e2e/architecture.sh <smtplab> <source-dir>
set -uo pipefail
src=${2:?source dir}
cd "$src" || exit 2
fails=0; passes=0
forbid() {  # forbid DESCRIPTION PATTERN PATHS...
  local desc=$1 pat=$2; shift 2
  local hits
  hits=$(grep -rnE --include='*.hpp' --include='*.cpp' --include='*.h' "$pat" "$@" 2>/dev/null || true)
  if [ -n "$hits" ]; then echo "FAIL: $desc:"; echo "$hits" | sed 's/^/    /'; fails=$((fails+1)); else passes=$((passes+1)); fi
}
sim_dirs=$(ls -d sim/*/ | grep -v '^sim/bridge/$')
forbid "sim/ includes the GUI" '#include [<"](gui/|imgui|GLFW|glad|GL/)' sim
forbid "sim/ (outside bridge) uses sockets" '#include [<"](asio|sys/socket|netinet|arpa/inet)' $sim_dirs
# Capture files: sim/capture builds packets from records (pure); only
# sim/pcap (its own library) writes them with libpcap.
forbid "sim/ (outside pcap) uses libpcap" '#include [<"]pcap' $(echo "$sim_dirs" | grep -v '^sim/pcap/$')
for d in sim/smtp sim/pop3 sim/imap; do
  [ -d "$d" ] || continue
  forbid "$d is not sans-IO (engine, clock, rng, network, sockets or threads)" \
    '#include [<"](sim/engine/engine|sim/engine/rng|sim/engine/pacer|sim/net/|sim/agents/|chrono|thread|random|asio|sys/socket)' "$d"
done
# The engine is single-threaded (DESIGN.md): a sweep runs whole, independent
# runs side by side, and the real-time pacer sleeps; nothing else in sim/
# (outside the bridge) touches threads.
forbid "threads in sim/ outside sweep.cpp and the pacer" '#include <(thread|mutex|atomic|future|condition_variable)>' \
  $(find $sim_dirs -name '*.?pp' ! -path 'sim/scenario/sweep.cpp' ! -path 'sim/engine/pacer.hpp')
forbid "randomness outside sim/engine/rng" '(std::random_device|std::mt19937|[^a-z_]rand\(|srand\()' $(find sim -name '*.?pp' ! -path 'sim/engine/rng.*')
forbid "wall clock inside the deterministic simulator" '(system_clock|steady_clock|time\(nullptr\)|gettimeofday)' \
  $(echo "$sim_dirs" | grep -v '^sim/engine/$') 
echo "architecture: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
