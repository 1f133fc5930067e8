#include <gtest/gtest.h>

#include "control/api/api_types.h"
#include "common/transport/host_port.h"

namespace weft::ctl {
namespace {

TEST(ApiTypes, StatusRoundTrips) {
  api::StatusReport r;
  r.desired_version = 7;
  r.nodes.push_back({"node-a", true, "127.0.0.1:4000", 7, 7, true, "", {{"web", "b1", true}, {"web", "b2", false}}});
  r.nodes.push_back({"node-b", false, "", 5, 6, false, "no memory", {}});
  auto back = api::parse_status(api::to_json(r));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->desired_version, 7u);
  EXPECT_EQ(back->nodes, r.nodes);
}

TEST(ApiTypes, ErrorsCarryPositions) {
  Diagnostics d;
  d.error({"a.yaml", 3, 5}, "duplicate node 'x'");
  d.error("b.yaml", "cannot read");
  auto back = api::parse_errors(api::errors_json(d.items()));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].format(), "a.yaml:3:5: error: duplicate node 'x'");
  EXPECT_EQ((*back)[1].pos.line, 0);
  EXPECT_NE(api::validate_json({}).find("\"valid\":true"), std::string::npos);
}

TEST(ApiTypes, HostileTextNeverThrows) {
  // Invalid UTF-8 quoted from a policy is replaced, not thrown on.
  auto j = api::error_json(std::string("bad \xff\xfe byte"));
  EXPECT_NE(api::parse_error_message(j).find("bad"), std::string::npos);
  EXPECT_EQ(api::parse_error_message(api::error_json("plain")), "plain");
  EXPECT_FALSE(api::parse_status("{"));
  EXPECT_FALSE(api::parse_status("{\"desired_version\": \"seven\", \"nodes\": []}"));
  EXPECT_FALSE(api::parse_apply("[]"));
  EXPECT_FALSE(api::parse_errors("{\"errors\": [{\"line\": 1}]}"));
  EXPECT_EQ(api::parse_error_message("not json"), "not json");
}

TEST(HostPort, ParsesNamesAddressesAndBrackets) {
  auto a = parse_host_port("127.0.0.1:6653");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6653);
  auto v6 = parse_host_port("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  auto dflt = parse_host_port("controller.example", 443);
  ASSERT_TRUE(dflt);
  EXPECT_EQ(dflt->port, 443);
  for (const char* bad : {"", ":80", "host", "host:", "host:x", "host:70000", "::1:80", "[::1",
                          "[::1]x", "host:80:90"})
    EXPECT_FALSE(parse_host_port(bad)) << bad;
}

}  // namespace
}  // namespace weft::ctl
