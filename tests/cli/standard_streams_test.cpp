// The binary's standard streams: records and events that cannot be written
// (a full device, a closed stdout) end the run with exit status 1 and a
// line on stderr; a closed stdin is said to be closed; and every record is
// valid UTF-8 JSON whatever bytes its URL, error or body holds.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/client_test_server.hpp"
#include "support/tailcut_binary.hpp"

namespace tailcut::test {
namespace {

namespace asio = boost::asio;
using namespace std::string_literals;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// /ok: 200 "ok"; /binary: 200 with bytes that are not UTF-8.
Reply answer(const ReceivedRequest& request) {
  if (request.target == "/binary") return Reply::text(200, "\xff\xfe ok \xc3");
  return Reply::text(200, "ok");
}

class StandardStreamsTest : public ::testing::Test {
 protected:
  TailcutExit run(const std::string& arguments) { return run_tailcut_serving(io_, arguments); }

  asio::io_context io_;
  ClientTestServer server_{io_, answer};
};

TEST_F(StandardStreamsTest, FetchRecordsThatCannotBeWrittenEndTheRunWithExitStatusOne) {
  const auto full = run("fetch " + server_.url("/ok") + " >/dev/full");
  EXPECT_EQ(full.status, 1);
  EXPECT_TRUE(contains(full.err,
                       "tailcut fetch: cannot write the records to standard output: No "
                       "space left on device"))
      << full.err;

  const auto full_file = run("fetch -o /dev/full " + server_.url("/ok"));
  EXPECT_EQ(full_file.status, 1);
  EXPECT_TRUE(contains(full_file.err, "cannot write the records to '/dev/full'")) << full_file.err;
}

TEST_F(StandardStreamsTest, FetchWithStdoutClosedSaysSoAndFetchesNothing) {
  const auto closed = run("fetch " + server_.url("/ok") + " >&-");
  EXPECT_EQ(closed.status, 1);
  EXPECT_TRUE(contains(closed.err, "tailcut fetch: standard output is closed")) << closed.err;
  EXPECT_EQ(server_.counters().requests, 0U);
}

TEST_F(StandardStreamsTest, SendEventsThatCannotBeWrittenEndTheRunWithExitStatusOne) {
  const auto full = run("send --to " + server_.url("/ok") + " >/dev/full");
  EXPECT_EQ(full.status, 1);
  EXPECT_TRUE(contains(full.err,
                       "tailcut send: cannot write the events to standard output: No "
                       "space left on device"))
      << full.err;

  const auto requests_before = server_.counters().requests;
  const auto closed = run("send --to " + server_.url("/ok") + " >&-");
  EXPECT_EQ(closed.status, 1);
  EXPECT_TRUE(contains(closed.err, "tailcut send: standard output is closed")) << closed.err;
  EXPECT_EQ(server_.counters().requests, requests_before);  // nothing sent unseen
}

// Were descriptor 0 left closed, Asio's eventfd would take it and
// `fetch -i -` would read that.
TEST(StandardStreams, FetchFromAClosedStdinSaysStdinIsClosed) {
  const auto closed = run_binary("/bin/sh", {"-c", "exec " + tailcut_binary() + " fetch -i - <&-"});
  EXPECT_EQ(closed.status, 2);
  EXPECT_TRUE(contains(closed.err, "tailcut fetch: -i -: standard input is closed")) << closed.err;
}

std::string text_of(const boost::json::value& value) { return std::string{value.as_string()}; }

std::vector<boost::json::object> records_of(const std::string& output) {
  std::vector<boost::json::object> records;
  std::istringstream lines{output};
  for (std::string line; std::getline(lines, line);) {
    records.push_back(boost::json::parse(line).as_object());  // throws on invalid UTF-8
  }
  return records;
}

TEST_F(StandardStreamsTest, FetchRecordsAreValidUtf8JsonWhateverTheBytesAndNulsStayInMessages) {
  const auto urls = std::filesystem::temp_directory_path() /
                    ("tailcut-standard-streams-" + std::to_string(::getpid()) + ".txt");
  std::ofstream{urls} << "http://a\0b/x\n"s
                      << "http://ex\xff"
                         "ample/\xfe\n"
                      << server_.url("/binary") << "\n";
  const auto fetched = run("fetch --body -i " + urls.string());
  std::filesystem::remove(urls);
  EXPECT_EQ(fetched.status, 1);
  const auto records = records_of(fetched.out);
  ASSERT_EQ(records.size(), 3U) << fetched.out;
  // The message quotes the whole line, the NUL escaped.
  EXPECT_EQ(text_of(records[0].at("url")), "http://a\0b/x"s);
  EXPECT_TRUE(contains(text_of(records[0].at("error").at("message")), R"("http://a\x00b/x")"))
      << records[0];
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(text_of(records[1].at("url")), "http://ex" + replacement + "ample/" + replacement);
  EXPECT_TRUE(
      contains(text_of(records[1].at("error").at("message")), R"("http://ex\xffample/\xfe")"))
      << records[1];
  EXPECT_EQ(records[2].at("status"), 200);
  EXPECT_EQ(text_of(records[2].at("body")), replacement + replacement + " ok " + replacement);
}

}  // namespace
}  // namespace tailcut::test
