// sim/smtp/names.hpp: a session's names (host names, HELO name), packed.
//
// A session lives as long as its connection and keeps a few short names for
// its trace records and commands: one std::string each is 32 bytes, most of
// it unused. PackedNames keeps N names back to back in one buffer of `Size`
// bytes in all, inline when they fit, else in one heap block sized exactly.
//
// Must never: hand out a view that outlives the next assign().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace smtplab::smtp {

// sizeof(PackedNames<N, Size>) == Size (checked where used).
template <size_t N, size_t Size>
class PackedNames {
 public:
  static constexpr size_t kInline = Size - sizeof(uint32_t) * N - 1;

  PackedNames() = default;
  explicit PackedNames(const std::array<std::string_view, N>& names) : PackedNames() { assign(names); }
  PackedNames(const PackedNames& o) : PackedNames() { assign(o.all()); }
  PackedNames(PackedNames&& o) noexcept : PackedNames() { swap(o); }
  PackedNames& operator=(PackedNames o) noexcept {
    swap(o);
    return *this;
  }
  ~PackedNames() { release(); }

  std::string_view operator[](size_t i) const {
    size_t off = 0;
    for (size_t k = 0; k < i; ++k) off += len_[k];
    return std::string_view(data() + off, len_[i]);
  }
  std::array<std::string_view, N> all() const {
    std::array<std::string_view, N> a;
    for (size_t i = 0; i < N; ++i) a[i] = (*this)[i];
    return a;
  }
  // Replaces every name (the views may point into this object).
  void assign(const std::array<std::string_view, N>& names) {
    size_t total = 0;
    for (std::string_view s : names) total += s.size();
    char* heap = total > kInline ? new char[total] : nullptr;
    char buf[kInline > 0 ? kInline : 1];
    char* dst = heap ? heap : buf;
    size_t off = 0;
    for (size_t i = 0; i < N; ++i) {
      if (!names[i].empty()) std::memcpy(dst + off, names[i].data(), names[i].size());
      off += names[i].size();
    }
    release();
    for (size_t i = 0; i < N; ++i) len_[i] = static_cast<uint32_t>(names[i].size());
    if (heap) {
      std::memcpy(in_, &heap, sizeof heap);
      on_heap_ = true;
    } else if (total > 0) {
      std::memcpy(in_, buf, total);
    }
  }
  // Replaces name i, keeping the others.
  void set(size_t i, std::string_view name) {
    std::array<std::string_view, N> a = all();
    a[i] = name;
    assign(a);
  }
  void swap(PackedNames& o) noexcept {
    std::swap(in_, o.in_);
    std::swap(len_, o.len_);
    std::swap(on_heap_, o.on_heap_);
  }

 private:
  // The heap block's address is kept in in_'s first bytes (no union: its
  // pointer member would align and pad the whole object to 8).
  char* heap() const {
    char* p;
    std::memcpy(&p, in_, sizeof p);
    return p;
  }
  const char* data() const { return on_heap_ ? heap() : in_; }
  void release() {
    if (on_heap_) delete[] heap();
    on_heap_ = false;
  }

  uint32_t len_[N]{};
  char in_[kInline]{};
  bool on_heap_ = false;
  static_assert(kInline >= sizeof(char*), "room for the heap block's address");
};

}  // namespace smtplab::smtp
