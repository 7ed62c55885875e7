// CSV data sources: RFC 4180 quoting, line endings, and errors.
#include "scenario/csv.h"

#include <gtest/gtest.h>

namespace headroom::scenario {
namespace {

TEST(Csv, QuotesLineEndingsAndBom) {
  auto t = ParseCsv("\xEF\xBB\xBFid,text\r\n1,\"a, \"\"quoted\"\" b\"\r\n\r\n2,\"two\nlines\"\n3,\n");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(t->columns, (std::vector<std::string>{"id", "text"}));
  ASSERT_EQ(t->rows(), 3u);
  EXPECT_EQ(t->Cell(0, 1), "a, \"quoted\" b");
  EXPECT_EQ(t->Cell(1, 1), "two\nlines");
  EXPECT_EQ(t->Cell(2, 0), "3");
  EXPECT_EQ(t->Cell(2, 1), "");
  EXPECT_EQ(t->ColumnIndex("text"), 1);
  EXPECT_EQ(t->ColumnIndex("nope"), -1);
}

TEST(Csv, Errors) {
  EXPECT_EQ(ParseCsv("a,b\n1,2\n3\n").error().message, "line 3: 1 fields, but the header has 2");
  EXPECT_EQ(ParseCsv("").error().message, "the file is empty (the first line must name the columns)");
  EXPECT_EQ(ParseCsv("a,b\n").error().message, "no data rows after the header");
  EXPECT_EQ(ParseCsv("a,a\n1,2\n").error().message, "line 1: column 'a' appears twice");
  EXPECT_EQ(ParseCsv("a\n\"open\n").error().message, "line 2: quoted field is not closed");
  EXPECT_EQ(ParseCsv("a\n\"x\"y\n").error().message, "line 2: unexpected text after a closing quote");
}

}  // namespace
}  // namespace headroom::scenario
