#include "base/time.h"

#include <gtest/gtest.h>

namespace custos {
namespace {

TEST(TimeTest, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1795762940), "2026-11-27T07:02:20Z");
}

TEST(TimeTest, ValidDates) {
  EXPECT_TRUE(IsValidDate(2024, 2, 29));
  EXPECT_FALSE(IsValidDate(2023, 2, 29));
  EXPECT_FALSE(IsValidDate(1900, 2, 29));
  EXPECT_TRUE(IsValidDate(2000, 2, 29));
  EXPECT_FALSE(IsValidDate(2026, 4, 31));
  EXPECT_FALSE(IsValidDate(2026, 13, 1));
  EXPECT_FALSE(IsValidDate(2026, 0, 1));
}

TEST(TimeTest, ParseIsoDate) {
  auto d = ParseIsoDate("2026-11-27");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (Date{2026, 11, 27}));
  EXPECT_EQ(FormatIsoDate(*d), "2026-11-27");
  for (const char* bad : {"2026-11-31", "2026/11/27", "26-11-27", "2026-1-27", "", "abcd-ef-gh"}) {
    auto r = ParseIsoDate(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(TimeTest, AgeOnBirthdayBoundaries) {
  Date birth{2012, 11, 28};
  EXPECT_EQ(AgeOn(birth, {2026, 11, 27}), 13);
  EXPECT_EQ(AgeOn(birth, {2026, 11, 28}), 14);
  EXPECT_EQ(AgeOn({2012, 2, 29}, {2026, 2, 28}), 13);
  EXPECT_EQ(AgeOn({2012, 2, 29}, {2026, 3, 1}), 14);
}

}  // namespace
}  // namespace custos

namespace custos {
namespace {

struct Rfc3339Case {
  const char* text;
  int64_t want;  // -1: rejected
};

class ParseRfc3339Test : public ::testing::TestWithParam<Rfc3339Case> {};

TEST_P(ParseRfc3339Test, ParsesOrRefuses) {
  const Rfc3339Case& c = GetParam();
  auto got = ParseRfc3339(c.text);
  if (c.want < 0) {
    ASSERT_FALSE(got) << c.text;
    EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument);
    if (*c.text != '\0') {
      EXPECT_EQ(got.error().message().find(c.text), std::string::npos);  // never echoed
    }
  } else {
    ASSERT_TRUE(got) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseRfc3339Test,
    ::testing::Values(Rfc3339Case{"1970-01-01T00:00:00Z", 0},
                      Rfc3339Case{"2026-11-27T07:02:20Z", 1795762940},
                      Rfc3339Case{"2026-11-27T15:02:20+08:00", 1795762940},
                      Rfc3339Case{"2026-11-27t07:02:20z", 1795762940},
                      Rfc3339Case{"2026-11-27T07:02:20.123456Z", 1795762940},
                      Rfc3339Case{"2026-11-26T23:02:20-08:00", 1795762940},
                      Rfc3339Case{"2024-02-29T00:00:00Z", 1709164800},
                      Rfc3339Case{"2016-12-31T23:59:60Z", 1483228799},
                      Rfc3339Case{"", -1}, Rfc3339Case{"2026-11-27", -1},
                      Rfc3339Case{"2026-11-27 07:02:20Z", -1},
                      Rfc3339Case{"2026-11-27T07:02:20", -1},
                      Rfc3339Case{"2023-02-29T00:00:00Z", -1},
                      Rfc3339Case{"2026-13-01T00:00:00Z", -1},
                      Rfc3339Case{"2026-11-27T24:00:00Z", -1},
                      Rfc3339Case{"2026-11-27T07:02:20+0800", -1},
                      Rfc3339Case{"2026-11-27T07:02:20.Z", -1},
                      Rfc3339Case{"2026-11-27T07:02:20Zjunk", -1},
                      Rfc3339Case{"110105194912310021", -1},
                      Rfc3339Case{"yesterday", -1}));

}  // namespace
}  // namespace custos
