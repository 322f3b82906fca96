// Tests for package/bech32.h: BIP 173 test vectors (valid strings, and
// invalid ones with the reason each is invalid) and round trips.
#include "package/bech32.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::package {
namespace {

TEST(Bech32, Bip173ValidStrings) {
  // From BIP 173, "Test vectors": every valid string whose data part is a
  // whole number of bytes (as age requires).
  for (const std::string& s : {
           std::string("A12UEL5L"),
           std::string("a12uel5l"),
           std::string("an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedchara"
                       "ctersbio1tt5tgs"),
           std::string("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"),
           std::string("split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"),
       }) {
    Result<Bech32Data> d = Bech32Decode(s);
    ASSERT_TRUE(d.has_value()) << s << ": " << d.error().ToString();
    const bool upper = s[0] == 'A';
    EXPECT_EQ(Bech32Encode(d->hrp, d->data, upper), s);
  }
  Result<Bech32Data> d = Bech32Decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->hrp, "abcdef");
  EXPECT_EQ(HexEncode(d->data), "00443214c74254b635cf84653a56d7c675be77df");
}

TEST(Bech32, NoLengthLimit) {
  // BIP 173 caps strings at 90 characters; age does not.
  const Bytes data(200, 0xab);
  const std::string s = Bech32Encode("age", data, false);
  EXPECT_GT(s.size(), 90u);
  Result<Bech32Data> d = Bech32Decode(s);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->data, data);
}

TEST(Bech32, Bip173InvalidStrings) {
  for (const std::string& s : {
           std::string("\x20"
                       "1nwldj5"),  // HRP character out of range
           std::string("\x7f"
                       "1axkwrx"),        // HRP character out of range
           std::string("pzry9x0s0muk"),   // no separator
           std::string("1pzry9x0s0muk"),  // empty HRP
           std::string("x1b4n0q5v"),      // invalid data character
           std::string("li1dgmt3"),       // too short checksum
           std::string("de1lg7wt\xff"),   // invalid character in checksum
           std::string("A1G7SGD8"),       // checksum calculated with upper-case HRP
           std::string("10a06t8"),        // empty HRP
           std::string("1qzzfhee"),       // empty HRP
           std::string("a12UEL5L"),       // mixed case
           std::string("a12uel5m"),       // wrong checksum
       }) {
    Result<Bech32Data> d = Bech32Decode(s);
    ASSERT_FALSE(d.has_value()) << s;
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(Bech32, PaddingRules) {
  // Strings with valid checksums, built with an independent implementation.
  Result<Bech32Data> d = Bech32Decode("age1luyvfgxs");  // groups 31,28: 0xff, padding 00
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->data, Bytes{0xff});
  EXPECT_EQ(Bech32Encode("age", Bytes{0xff}, false), "age1luyvfgxs");
  d = Bech32Decode("age19l388n");  // no data at all
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->data.empty());
  EXPECT_FALSE(Bech32Decode("age1ll2lu7g0").has_value());  // groups 31,31: padding bits 11
  EXPECT_FALSE(Bech32Decode("age1qdd35qf").has_value());   // one group: 5 padding bits
}

}  // namespace
}  // namespace custos::package
