// Response checks (`expect:`) judged on captured responses: what passes, what is an HTTP error,
// what fails and the one-line reason it gives.
#include "exec/response_check.h"

#include <gtest/gtest.h>

#include "scenario/scenario.h"

namespace headroom::exec {
namespace {

using Outcome = engine::ResponseCheck::Outcome;

scenario::Expect ExpectOf(const std::string& yaml_expect) {
  auto s = scenario::LoadScenarioFromString("name: t\ntarget: http://127.0.0.1:1\nrequests:\n  - name: r\n    path: /\n"
                                            "    expect: " + yaml_expect +
                                                "\nphases:\n  - { name: p, baseline: { rate: 1/s, duration: 1s } }\n",
                                            "t.yaml");
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return s ? *s->requests[0].expect : scenario::Expect{};
}

// A response as the parser would have kept it for `check`.
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

std::pair<Outcome, std::string> Judge(const engine::ResponseCheck& check, const Response& r) {
  http::ResponseCapture kept;
  kept.header_names = &check.header_names();
  kept.header_values.assign(check.header_names().size(), "");
  kept.header_seen.assign(check.header_names().size(), 0);
  for (const auto& [name, value] : r.headers) {
    for (size_t i = 0; i < check.header_names().size(); ++i) {
      if (check.header_names()[i] == name) {
        kept.header_values[i] = value;
        kept.header_seen[i] = 1;
      }
    }
  }
  kept.body = r.body.substr(0, check.max_body_bytes());
  kept.body_truncated = r.body.size() > check.max_body_bytes();
  std::string reason;
  Outcome o = check.Evaluate(r.status, kept, r.body.size(), &reason);
  std::string silent;
  EXPECT_EQ(check.Evaluate(r.status, kept, r.body.size(), nullptr), o) << "the reason does not change the outcome";
  if (o != Outcome::kFail) EXPECT_EQ(reason, "") << "only a failure gives a reason";
  return {o, reason};
}

TEST(ResponseCheck, StatusList) {
  auto check = MakeResponseCheck(ExpectOf("{ status: [200, 404, \"3xx\"] }"));
  EXPECT_EQ(Judge(*check, {200}).first, Outcome::kPass);
  EXPECT_EQ(Judge(*check, {302}).first, Outcome::kPass);
  EXPECT_EQ(Judge(*check, {404}).first, Outcome::kPass) << "an expected 404 is ok";
  EXPECT_EQ(Judge(*check, {503}).first, Outcome::kHttpError) << "an unexpected 5xx stays http_5xx";
  EXPECT_EQ(Judge(*check, {201}), std::make_pair(Outcome::kFail, std::string("status 201, expected 200, 404 or 3xx")));
  EXPECT_EQ(check->max_body_bytes(), 0u) << "no body check: the body is not kept";
}

TEST(ResponseCheck, WithoutStatusAnyStatusBelow400) {
  auto check = MakeResponseCheck(ExpectOf("{ body_contains: ok }"));
  EXPECT_EQ(Judge(*check, {302, {}, "ok"}).first, Outcome::kPass);
  EXPECT_EQ(Judge(*check, {404, {}, "ok"}).first, Outcome::kHttpError);
  EXPECT_EQ(Judge(*check, {200, {}, "nope"}),
            std::make_pair(Outcome::kFail, std::string("body does not contain \"ok\" (body \"nope\")")));
}

TEST(ResponseCheck, Headers) {
  auto check = MakeResponseCheck(ExpectOf(
      "{ headers: { Content-Type: { contains: json }, X-Id: '7', X-Debug: { present: false }, "
      "ETag: { matches: '^\"[0-9a-f]+\"$' }, X-Any: { present: true } } }"));
  const Response good{200, {{"content-type", "application/json; charset=utf-8"}, {"x-id", "7"}, {"etag", "\"ab12\""},
                            {"x-any", ""}}};
  EXPECT_EQ(Judge(*check, good).first, Outcome::kPass);
  Response r = good;
  r.headers[0].second = "text/html";
  EXPECT_EQ(Judge(*check, r).second, "header Content-Type is \"text/html\", expected it to contain \"json\"");
  r = good;
  r.headers[1].second = "8";
  EXPECT_EQ(Judge(*check, r).second, "header X-Id is \"8\", expected \"7\"");
  r = good;
  r.headers.push_back({"x-debug", "on"});
  EXPECT_EQ(Judge(*check, r).second, "header X-Debug is \"on\", expected no such header");
  r = good;
  r.headers[2].second = "W/\"ab12\"";
  EXPECT_EQ(Judge(*check, r).second, "header ETag is \"W/\\\"ab12\\\"\", expected it to match /^\"[0-9a-f]+\"$/");
  r = good;
  r.headers.pop_back();
  EXPECT_EQ(Judge(*check, r).second, "header X-Any is missing");
}

TEST(ResponseCheck, BodyPatternAndTruncation) {
  auto check = MakeResponseCheck(ExpectOf("{ body_matches: '\"id\":\\s*\\d+', body_limit: 16B }"));
  EXPECT_EQ(check->max_body_bytes(), 16u);
  EXPECT_EQ(Judge(*check, {200, {}, "{\"id\": 42}"}).first, Outcome::kPass);
  auto [o, why] = Judge(*check, {200, {}, std::string(20, ' ') + "{\"id\": 42}"});
  EXPECT_EQ(o, Outcome::kFail);
  EXPECT_NE(why.find("only its first 16B of 30B searched: raise expect.body_limit"), std::string::npos) << why;
}

TEST(ResponseCheck, EndAnchoredPatternOnACutBodyFails) {
  auto check = MakeResponseCheck(ExpectOf("{ body_matches: ['^a+$'], body_limit: 4B }"));
  EXPECT_EQ(Judge(*check, {200, {}, "aaaa"}).first, Outcome::kPass);
  EXPECT_EQ(Judge(*check, {200, {}, "aaaaaaab"}).second,
            "body of 8B is over expect.body_limit (4B): /^a+$/ needs its end; raise expect.body_limit")
      << "'$' would match the cut, not the body's end";
  auto unanchored = MakeResponseCheck(ExpectOf("{ body_matches: ['^a+[$]', 'a\\$'], body_limit: 4B }"));
  EXPECT_EQ(Judge(*unanchored, {200, {}, "aa$a$xxxx"}).first, Outcome::kPass) << "'$' in a class or escaped is a character";
}

TEST(ResponseCheck, BodySnippetIsShortAndPrintable) {
  auto check = MakeResponseCheck(ExpectOf("{ body_contains: needle }"));
  auto [o, why] = Judge(*check, {200, {}, "\x01\xff" + std::string(500, 'a')});
  EXPECT_EQ(o, Outcome::kFail);
  EXPECT_EQ(why.find('\x01'), std::string::npos);
  EXPECT_NE(why.find("\\x01\\xff"), std::string::npos) << why;
  EXPECT_LT(why.size(), 150u) << why;
}

TEST(ResponseCheck, JsonFields) {
  auto check = MakeResponseCheck(ExpectOf("{ json: { ok: true, items.0.id: 1, 'items[1].name': gadget, /n: 2 } }"));
  const std::string body = R"({"ok":true,"n":2.0,"items":[{"id":1},{"name":"gadget"}]})";
  EXPECT_EQ(Judge(*check, {200, {}, body}).first, Outcome::kPass) << "2.0 equals 2";
  EXPECT_EQ(Judge(*check, {200, {}, R"({"ok":true,"n":2,"items":[{"id":"1"},{"name":"gadget"}]})"}).second,
            "json items.0.id is \"1\", expected 1");
  EXPECT_EQ(Judge(*check, {200, {}, R"({"ok":true,"n":2,"items":[]})"}).second, "json items.0.id is missing, expected 1");
  EXPECT_EQ(Judge(*check, {200, {}, "<html>"}).second, "body is not JSON: \"<html>\"");
  EXPECT_EQ(Judge(*check, {200, {}, R"({"ok":true,"n":2,"items":{"0":{"id":1},"1":{"name":"gadget"}}})"}).first,
            Outcome::kPass)
      << "a pointer's digits also name object keys";
}

TEST(ResponseCheck, HostileJsonDoesNotExhaustTheStack) {
  auto check = MakeResponseCheck(ExpectOf("{ json: { a: 1 } }"));
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_EQ(Judge(*check, {200, {}, deep}).second, "body nests deeper than 512 levels; not parsed as JSON");
  EXPECT_EQ(Judge(*check, {200, {}, std::string(2 << 20, 'x')}).first, Outcome::kFail) << "over the 1 MiB limit";
}

}  // namespace
}  // namespace headroom::exec
