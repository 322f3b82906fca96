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
