// sim/pcap/pcap_file.cpp: see pcap_file.hpp.
#include "sim/pcap/pcap_file.hpp"

#include <pcap/pcap.h>

#include "sim/mail/message.hpp"

namespace smtplab {

PcapFile::~PcapFile() {
  std::string ignored;
  close(ignored);
}

bool PcapFile::open(const std::string& path, std::string& error) {
  std::string ignored;
  close(ignored);
  pcap_t* p = pcap_open_dead(DLT_RAW, 65535);
  if (!p) {
    error = "libpcap could not make a capture handle";
    return false;
  }
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  if (!d) {
    error = "cannot write " + path + ": " + pcap_geterr(p);
    pcap_close(p);
    return false;
  }
  pcap_ = p;
  dumper_ = d;
  path_ = path;
  written_ = 0;
  return true;
}

void PcapFile::write(const Packet& p) {
  if (!dumper_) return;
  pcap_pkthdr h{};
  const int64_t us = p.t.us < 0 ? 0 : p.t.us;
  h.ts.tv_sec = static_cast<time_t>(mail::kEpochUnixSeconds + us / 1000000);
  h.ts.tv_usec = static_cast<suseconds_t>(us % 1000000);
  h.caplen = h.len = static_cast<bpf_u_int32>(p.bytes.size());
  pcap_dump(static_cast<u_char*>(dumper_), &h, reinterpret_cast<const u_char*>(p.bytes.data()));
  ++written_;
}

bool PcapFile::close(std::string& error) {
  bool ok = true;
  if (dumper_) {
    auto* d = static_cast<pcap_dumper_t*>(dumper_);
    if (pcap_dump_flush(d) != 0 || ferror(pcap_dump_file(d))) {
      error = "writing " + path_ + " failed";
      ok = false;
    }
    pcap_dump_close(d);
    dumper_ = nullptr;
  }
  if (pcap_) {
    pcap_close(static_cast<pcap_t*>(pcap_));
    pcap_ = nullptr;
  }
  return ok;
}

bool write_pcap(const std::string& path, std::span<const Packet> packets, std::string& error) {
  PcapFile file;
  if (!file.open(path, error)) return false;
  for (const Packet& p : packets) file.write(p);
  return file.close(error);
}

}  // namespace smtplab
