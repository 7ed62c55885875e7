// RenderInto must not allocate once the output buffer has RenderCapacityHint() capacity.
// This binary replaces the global operator new with a counting one (counting only).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <new>

#include "scenario/scenario.h"

namespace {
thread_local long g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace headroom::scenario {
namespace {

TEST(RenderAlloc, NoHeapAllocationPerRequest) {
  const std::string dir = (std::filesystem::path(HEADROOM_SOURCE_DIR) / "src/scenario/testdata/good").string();
  auto s = LoadScenarioFromString(
      "name: t\ntarget: http://127.0.0.1:8080\ndata: { users: { file: ../data/users.csv, order: random } }\n"
      "requests:\n  - name: o\n    method: POST\n    path: /o/{{ randint(1, 1000000) }}\n"
      "    headers: { X-Req: \"{{ uuid() }}\" }\n"
      "    body: '{\"u\":\"{{ users.name }}\",\"n\":{{ seq() }},\"c\":\"{{ choice(a, bb, ccc) }}\"}'\n"
      "phases: [ { baseline: { rate: 1/s, duration: 1s } } ]\n",
      "t.yaml", dir);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto reqs = CompileRequests(*s, "127.0.0.1:8080");
  ASSERT_TRUE(reqs.has_value());
  RenderContext ctx = MakeRenderContext(*reqs, 1, 0, 1);
  std::string out;
  out.reserve((*reqs)[0].RenderCapacityHint());
  const long before = g_allocations;
  for (int i = 0; i < 10000; ++i) (*reqs)[0].RenderInto(ctx, out);
  EXPECT_EQ(g_allocations - before, 0);
  std::string fresh;  // the counter does see allocations: an empty buffer has to grow
  const long before_fresh = g_allocations;
  (*reqs)[0].RenderInto(ctx, fresh);
  EXPECT_GT(g_allocations - before_fresh, 0);
  EXPECT_NE(out.find("Content-Length: "), std::string::npos);
}

}  // namespace
}  // namespace headroom::scenario
