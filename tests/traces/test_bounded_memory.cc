// Memory stays bounded whatever the trace's length: a 10M-record stream,
// synthesized on the fly (no file), is read with a constant buffer and with no
// heap allocation after the first batch.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"
#include "traces/generator.h"

// Counts heap allocations of this test executable. A test-only hook; the
// library itself has no global state.
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
// GCC pairs free() with the replaced operator new here and warns wrongly.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace mmusim {
namespace {

// A ByteSource producing a binary or text trace of the generator's records.
class GeneratedSource final : public ByteSource {
 public:
  GeneratedSource(const std::string& spec, bool binary)
      : gen_(open_generator(spec)), binary_(binary), name_("generated") {
    if (binary_) pending_ = encode_binary_header("generated", 0);
    pending_.reserve(size_t{1} << 20);
    records_.resize(4096);
  }
  size_t read(char* buf, size_t n) override {
    if (pos_ == pending_.size()) refill();
    size_t k = std::min(n, pending_.size() - pos_);
    std::memcpy(buf, pending_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  [[nodiscard]] const std::string& name() const override { return name_; }

 private:
  void refill() {
    pending_.clear();
    pos_ = 0;
    size_t got = gen_->read(records_.data(), records_.size());
    char line[64];
    for (size_t i = 0; i < got; ++i) {
      if (binary_) {
        encode_record(records_[i], line);
        pending_.append(line, 16);
      } else {
        pending_.append(line, format_text_record(records_[i], line));
      }
    }
  }
  std::unique_ptr<TraceReader> gen_;
  bool binary_;
  std::string name_, pending_;
  size_t pos_ = 0;
  std::vector<TraceRecord> records_;
};

void expect_bounded(bool binary, const char* spec, uint64_t count) {
  auto in = std::make_unique<InputBuffer>(std::make_unique<GeneratedSource>(spec, binary));
  auto reader = binary ? make_binary_reader(std::move(in)) : make_text_reader(std::move(in));
  std::vector<TraceRecord> batch(4096);
  uint64_t total = reader->read(batch.data(), batch.size());
  const size_t capacity = reader->buffer_capacity();
  const uint64_t allocations = g_allocations.load();
  bool constant = true;
  uint64_t sum = 0;
  for (size_t n; (n = reader->read(batch.data(), batch.size())) > 0;) {
    total += n;
    sum += batch[n - 1].addr;
    constant &= reader->buffer_capacity() == capacity;
  }
  EXPECT_EQ(g_allocations.load(), allocations) << "allocations while streaming";
  EXPECT_TRUE(constant);
  EXPECT_EQ(capacity, InputBuffer::kDefaultCapacity);
  EXPECT_EQ(total, count);
  EXPECT_NE(sum, 0u);
}

TEST(TraceBoundedMemory, BinaryStreamOfTenMillionRecords) {
  expect_bounded(true, "uniform,count=10000000,footprint=1G", 10000000);
}

TEST(TraceBoundedMemory, TextStreamOfTenMillionRecords) {
  expect_bounded(false, "seq,count=10000000,footprint=1G", 10000000);
}

TEST(TraceBoundedMemory, GeneratorDoesNotAllocatePerBatch) {
  auto r = open_generator("chase,count=10000000,footprint=1G");
  std::vector<TraceRecord> batch(4096);
  const uint64_t allocations = g_allocations.load();
  uint64_t total = 0;
  for (size_t n; (n = r->read(batch.data(), batch.size())) > 0;) total += n;
  EXPECT_EQ(g_allocations.load(), allocations);
  EXPECT_EQ(total, 10000000u);
}

}  // namespace
}  // namespace mmusim
