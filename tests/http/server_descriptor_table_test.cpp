// reserve_descriptor_table grows the descriptor table (FDSize in
// /proc/self/status) without leaving a descriptor open; a Server does so
// only when ServerOptions::reserve_descriptor_table asks it to.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "http/server/descriptor_table.hpp"
#include "tailcut/http/server.hpp"

namespace {

std::size_t descriptor_table_size() {
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("FDSize:")) return std::stoul(line.substr(7));
  }
  return 0;
}

std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator{"/proc/self/fd"}) {
    ++count;
  }
  return count;
}

// Lifts the open-files soft limit to the hard one for a test, and puts it back.
class HardOpenFilesLimit {
 public:
  HardOpenFilesLimit() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lifted = saved_;
    lifted.rlim_cur = saved_.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lifted);
  }
  ~HardOpenFilesLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  HardOpenFilesLimit(const HardOpenFilesLimit&) = delete;
  HardOpenFilesLimit& operator=(const HardOpenFilesLimit&) = delete;

  [[nodiscard]] std::size_t soft() const {
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    return now.rlim_cur == RLIM_INFINITY ? tailcut::http::detail::max_reserved_descriptors
                                         : static_cast<std::size_t>(now.rlim_cur);
  }

 private:
  rlimit saved_{};
};

// The table only grows: the server that must leave it alone starts first,
// and this test before the others here.
TEST(DescriptorTable, AServerGrowsItOnlyWhenAskedTo) {
  const HardOpenFilesLimit limit;
  const std::size_t before = descriptor_table_size();
  const std::size_t wanted = std::min<std::size_t>(
      {before * 4, limit.soft(), tailcut::http::detail::max_reserved_descriptors});
  if (wanted <= before) GTEST_SKIP() << "the descriptor table cannot grow further here";
  tailcut::http::ServerOptions options;
  options.threads = 1;
  options.max_connections = wanted / 4;
  {
    tailcut::http::Server server{options, tailcut::http::Router{}};
    server.start();
    EXPECT_LT(descriptor_table_size(), wanted);
    server.stop();
  }
  options.reserve_descriptor_table = true;
  tailcut::http::Server server{options, tailcut::http::Router{}};
  server.start();
  EXPECT_GE(descriptor_table_size(), wanted);
  server.stop();
}

TEST(DescriptorTable, GrowsToTheRequestedSizeAndLeavesNothingOpen) {
  const HardOpenFilesLimit limit;
  const std::size_t before = descriptor_table_size();
  ASSERT_GT(before, 0u);
  const std::size_t wanted = std::min<std::size_t>(
      {before * 4, limit.soft(), tailcut::http::detail::max_reserved_descriptors});
  ASSERT_GT(wanted, before) << "the open-files hard limit (" << limit.soft()
                            << ") is not above the descriptor table size (" << before << ")";
  const std::size_t open_before = open_descriptors();

  tailcut::http::detail::reserve_descriptor_table(wanted);

  EXPECT_GE(descriptor_table_size(), wanted);
  EXPECT_EQ(open_descriptors(), open_before);
}

TEST(DescriptorTable, NeverExceedsTheOpenFilesLimit) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  const std::size_t open_before = open_descriptors();
  tailcut::http::detail::reserve_descriptor_table(limit.rlim_cur * 2 + 10);  // no throw, no leak
  EXPECT_EQ(open_descriptors(), open_before);
  EXPECT_LE(descriptor_table_size(),
            std::max<std::size_t>(limit.rlim_cur * 2,
                                  tailcut::http::detail::max_reserved_descriptors * 2));
}

}  // namespace
