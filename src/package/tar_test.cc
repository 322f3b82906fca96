// Tests for package/tar.h: round trips, interoperability with GNU tar in
// both directions (skipped when absent), and one test per kind of damaged
// or hostile archive, each with its exact error code.
#include "package/tar.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>

#include "base/test_util.h"
#include "package/test_support.h"

namespace custos::package {
namespace {

using ::custos::package::testing::HaveTool;
using ::custos::package::testing::PatternBytes;
using ::custos::package::testing::RunShell;
using ::custos::testing::Slurp;
using ::custos::testing::TempDir;
using ::custos::testing::WriteText;

constexpr int64_t kMtime = 1795764805;  // 2026-11-27T07:33:25Z

// A two-file archive like a package: a small manifest and a larger payload
// written in pieces.
Bytes SampleArchive(const Bytes& payload) {
  Bytes out;
  BytesSink sink(out);
  TarWriter tar(sink);
  EXPECT_TRUE(tar.AddFile("manifest.json", AsBytes("{\"v\":1}\n"), kMtime).has_value());
  EXPECT_TRUE(tar.BeginFile("payload.jsonl.age", payload.size(), kMtime + 1).has_value());
  for (size_t i = 0; i < payload.size(); i += 1000) {
    EXPECT_TRUE(tar.Write(ByteSpan(payload).subspan(i, std::min<size_t>(1000, payload.size() - i)))
                    .has_value());
  }
  EXPECT_TRUE(tar.EndFile().has_value());
  EXPECT_TRUE(tar.Finish().has_value());
  return out;
}

TEST(Tar, RoundTrip) {
  const Bytes payload = PatternBytes(100000, 5);
  const Bytes archive = SampleArchive(payload);
  EXPECT_EQ(archive.size() % kTarBlockSize, 0u);
  EXPECT_EQ(archive.size(), 512u + 512u + 512u + 196u * 512u + 1024u);
  Result<std::vector<TarFile>> files = ReadTarArchive(archive);
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].entry.name, "manifest.json");
  EXPECT_EQ(std::string(AsChars((*files)[0].content)), "{\"v\":1}\n");
  EXPECT_EQ((*files)[0].entry.mtime, kMtime);
  EXPECT_EQ((*files)[0].entry.mode, 0644u);
  EXPECT_EQ((*files)[1].entry.name, "payload.jsonl.age");
  EXPECT_EQ((*files)[1].entry.size, payload.size());
  EXPECT_EQ((*files)[1].content, payload);
  EXPECT_EQ((*files)[1].entry.mtime, kMtime + 1);
}

TEST(Tar, EmptyArchiveAndEmptyFile) {
  Bytes out;
  BytesSink sink(out);
  TarWriter tar(sink);
  ASSERT_TRUE(tar.Finish().has_value());
  EXPECT_EQ(out.size(), 1024u);
  Result<std::vector<TarFile>> files = ReadTarArchive(out);
  ASSERT_TRUE(files.has_value());
  EXPECT_TRUE(files->empty());

  out.clear();
  TarWriter tar2(sink);
  ASSERT_TRUE(tar2.AddFile("empty", {}, 0).has_value());
  ASSERT_TRUE(tar2.Finish().has_value());
  files = ReadTarArchive(out);
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_TRUE((*files)[0].content.empty());
}

TEST(Tar, StreamingReaderSkipsUnreadContent) {
  const Bytes payload = PatternBytes(5000, 6);
  const Bytes archive = SampleArchive(payload);
  SpanSource source(archive);
  TarReader reader(source);
  Result<std::optional<TarEntry>> e = reader.Next();
  ASSERT_TRUE(e.has_value() && e->has_value());
  uint8_t two[2];
  ASSERT_EQ(*reader.Read(two), 2u);  // read part of the manifest only
  e = reader.Next();
  ASSERT_TRUE(e.has_value() && e->has_value()) << (e ? "" : e.error().ToString());
  EXPECT_EQ((*e)->name, "payload.jsonl.age");
  Bytes content;
  std::vector<uint8_t> piece(333);
  for (;;) {
    Result<size_t> n = reader.Read(piece);
    ASSERT_TRUE(n.has_value());
    if (*n == 0) break;
    content.insert(content.end(), piece.begin(), piece.begin() + static_cast<ptrdiff_t>(*n));
  }
  EXPECT_EQ(content, payload);
  e = reader.Next();
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->has_value());
  e = reader.Next();  // idempotent at the end
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->has_value());
}

// ---- writer misuse ---------------------------------------------------------

class TarBadName : public ::testing::TestWithParam<std::string> {};
TEST_P(TarBadName, IsInvalidArgument) {
  Bytes out;
  BytesSink sink(out);
  TarWriter tar(sink);
  Status s = tar.AddFile(GetParam(), AsBytes("x"), kMtime);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument) << s.error().ToString();
  EXPECT_TRUE(out.empty());
}
INSTANTIATE_TEST_SUITE_P(Names, TarBadName,
                         ::testing::Values("", "/etc/passwd", "../evil", "a/../../b", "a//b", "./a",
                                           "a/", ".", "..", std::string(101, 'n'), "a\\b",
                                           "tab\tname", std::string("nul\0x", 5), "caf\xc3\xa9"));

TEST(TarWriter, AcceptsSubdirectoriesAnd100ByteNames) {
  Bytes out;
  BytesSink sink(out);
  TarWriter tar(sink);
  EXPECT_TRUE(tar.AddFile("receipts/2026/receipt.sig", AsBytes("x"), kMtime).has_value());
  EXPECT_TRUE(tar.AddFile(std::string(100, 'n'), AsBytes("y"), kMtime).has_value());
  ASSERT_TRUE(tar.Finish().has_value());
  Result<std::vector<TarFile>> files = ReadTarArchive(out);
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  EXPECT_EQ((*files)[1].entry.name, std::string(100, 'n'));
}

TEST(TarWriter, MisuseIsCaught) {
  Bytes out;
  BytesSink sink(out);
  TarWriter tar(sink);
  EXPECT_EQ(tar.Write(AsBytes("x")).error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(tar.EndFile().error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(tar.BeginFile("a", 10, -1).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tar.BeginFile("a", kTarMaxFileSize + 1, 0).error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(tar.BeginFile("a", 3, kMtime).has_value());
  EXPECT_EQ(tar.BeginFile("b", 3, kMtime).error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(tar.Finish().error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(tar.Write(AsBytes("abcd")).error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(tar.Write(AsBytes("ab")).has_value());
  EXPECT_EQ(tar.EndFile().error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(tar.Write(AsBytes("c")).has_value());
  ASSERT_TRUE(tar.EndFile().has_value());
  EXPECT_EQ(tar.AddFile("a", {}, kMtime).error().code(), ErrorCode::kInvalidArgument);  // duplicate
  ASSERT_TRUE(tar.Finish().has_value());
  EXPECT_EQ(tar.Finish().error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(tar.AddFile("z", {}, kMtime).error().code(), ErrorCode::kFailedPrecondition);
}

// ---- hostile and damaged archives ------------------------------------------

// Recomputes a header block's checksum after a test edited it.
void Reseal(Bytes& archive, size_t header_offset) {
  uint8_t* h = archive.data() + header_offset;
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += h[i];
  std::snprintf(reinterpret_cast<char*>(h + 148), 8, "%06o", sum);
  h[155] = ' ';
}

void SetField(Bytes& archive, size_t header_offset, size_t field, size_t size,
              std::string_view value) {
  std::memset(archive.data() + header_offset + field, 0, size);
  std::memcpy(archive.data() + header_offset + field, value.data(), std::min(size, value.size()));
  Reseal(archive, header_offset);
}

constexpr size_t kSecondHeader = 1024;  // manifest header + one content block

struct DamageCase {
  std::string name;
  std::function<void(Bytes&)> damage;
  ErrorCode code;
};

class TarDamage : public ::testing::TestWithParam<DamageCase> {};
TEST_P(TarDamage, FailsWithExactCode) {
  Bytes archive = SampleArchive(PatternBytes(3000, 7));
  GetParam().damage(archive);
  Result<std::vector<TarFile>> files = ReadTarArchive(archive, TarReadOptions{.max_entries = 3});
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().code(), GetParam().code) << files.error().ToString();
  EXPECT_NE(files.error().message().find("tar"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TarDamage,
    ::testing::Values(
        DamageCase{"flipped_header_byte", [](Bytes& a) { a[kSecondHeader + 3] ^= 1; },
                   ErrorCode::kDataLoss},
        DamageCase{"flipped_checksum", [](Bytes& a) { a[148] ^= 1; }, ErrorCode::kDataLoss},
        DamageCase{"truncated_in_header", [](Bytes& a) { a.resize(kSecondHeader + 100); },
                   ErrorCode::kDataLoss},
        DamageCase{"truncated_in_content", [](Bytes& a) { a.resize(kSecondHeader + 512 + 1000); },
                   ErrorCode::kDataLoss},
        DamageCase{"truncated_in_padding", [](Bytes& a) { a.resize(kSecondHeader + 512 + 3000); },
                   ErrorCode::kDataLoss},
        DamageCase{"no_end_marker", [](Bytes& a) { a.erase(a.end() - 1024, a.end()); },
                   ErrorCode::kDataLoss},
        DamageCase{"lone_zero_block", [](Bytes& a) { a.erase(a.end() - 512, a.end()); },
                   ErrorCode::kDataLoss},
        DamageCase{"data_after_end", [](Bytes& a) { a.push_back(1); }, ErrorCode::kDataLoss},
        DamageCase{"header_after_zero_block",
                   [](Bytes& a) {
                     Bytes zero(512, 0);
                     a.insert(a.begin() + kSecondHeader, zero.begin(), zero.end());
                   },
                   ErrorCode::kDataLoss},
        DamageCase{"path_traversal",
                   [](Bytes& a) { SetField(a, kSecondHeader, 0, 100, "../../etc/cron.d/x"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"absolute_path",
                   [](Bytes& a) { SetField(a, kSecondHeader, 0, 100, "/etc/passwd"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"traversal_via_prefix",
                   [](Bytes& a) { SetField(a, kSecondHeader, 345, 155, ".."); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"duplicate_name",
                   [](Bytes& a) { SetField(a, kSecondHeader, 0, 100, "manifest.json"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{
            "garbage_after_name_nul",
            [](Bytes& a) { SetField(a, kSecondHeader, 0, 100, std::string("payload\0x", 9)); },
            ErrorCode::kInvalidArgument},
        DamageCase{"symlink", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "2"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"hard_link", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "1"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"char_device", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "3"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"block_device", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "4"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"directory", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "5"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"fifo", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "6"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"pax_header", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "x"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"gnu_long_name", [](Bytes& a) { SetField(a, kSecondHeader, 156, 1, "L"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"link_name_on_file",
                   [](Bytes& a) { SetField(a, kSecondHeader, 157, 100, "target"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"gnu_magic", [](Bytes& a) { SetField(a, kSecondHeader, 257, 8, "ustar  "); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"base256_size",
                   [](Bytes& a) {
                     a[kSecondHeader + 124] = 0x80;
                     Reseal(a, kSecondHeader);
                   },
                   ErrorCode::kInvalidArgument},
        DamageCase{"size_not_octal",
                   [](Bytes& a) { SetField(a, kSecondHeader, 124, 12, "0000000589x"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"setuid_mode", [](Bytes& a) { SetField(a, kSecondHeader, 100, 8, "0004755"); },
                   ErrorCode::kInvalidArgument},
        DamageCase{"too_many_entries",
                   [](Bytes& a) {
                     Bytes out;
                     BytesSink sink(out);
                     TarWriter tar(sink);
                     for (int i = 0; i < 4; ++i)
                       EXPECT_TRUE(tar.AddFile("f" + std::to_string(i), {}, 0).has_value());
                     EXPECT_TRUE(tar.Finish().has_value());
                     a = out;
                   },
                   ErrorCode::kInvalidArgument}),
    [](const ::testing::TestParamInfo<DamageCase>& p) { return p.param.name; });

// ---- TarFileWriter ---------------------------------------------------------

// What TarWriter writes for a manifest, a signature and a payload.
Bytes StreamedArchive(const std::string& manifest, const std::string& sig, const Bytes& payload) {
  Bytes out;
  BytesSink sink(out);
  TarWriter tar(sink);
  EXPECT_TRUE(tar.AddFile("manifest.json", AsBytes(manifest), kMtime).has_value());
  EXPECT_TRUE(tar.AddFile("manifest.json.sig", AsBytes(sig), kMtime).has_value());
  EXPECT_TRUE(tar.AddFile("payload.jsonl.age", payload, kMtime).has_value());
  EXPECT_TRUE(tar.Finish().has_value());
  return out;
}

// A file for a TarFileWriter, removed with its directory.
class TarFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::open(dir_.File("archive.tar").c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override { ::close(fd_); }
  std::string Contents() const { return Slurp(dir_.File("archive.tar")); }

  custos::testing::TempDir dir_;
  int fd_ = -1;
};

struct FileWriterCase {
  std::string name;
  size_t payload_size;
  size_t manifest_guess;  // the real manifest is 700 bytes, the signature 300
  size_t sig_guess;
};

class TarFileWriterBytes : public TarFileTest,
                           public ::testing::WithParamInterface<FileWriterCase> {};
TEST_P(TarFileWriterBytes, AreTarWriters) {
  const FileWriterCase& c = GetParam();
  const std::string manifest(700, 'm');
  const std::string sig(300, 's');
  const Bytes payload = PatternBytes(c.payload_size, 3);
  const std::vector<uint64_t> guesses = {c.manifest_guess, c.sig_guess};
  TarFileWriter tar(fd_, "archive.tar", guesses);
  for (size_t i = 0; i < payload.size(); i += 7000) {
    ASSERT_TRUE(tar.content()
                    .Write(ByteSpan(payload).subspan(i, std::min<size_t>(7000, payload.size() - i)))
                    .has_value());
  }
  EXPECT_EQ(tar.content_size(), payload.size());
  const std::vector<TarMember> leading = {{"manifest.json", AsBytes(manifest)},
                                          {"manifest.json.sig", AsBytes(sig)}};
  Status s = tar.Finish(leading, "payload.jsonl.age", kMtime);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  const Bytes want = StreamedArchive(manifest, sig, payload);
  const std::string got = Contents();
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == std::string(AsChars(want)));
}
INSTANTIATE_TEST_SUITE_P(Cases, TarFileWriterBytes,
                         ::testing::Values(
                             // The guess puts the content where it belongs: no move.
                             FileWriterCase{"right_guess", 100000, 700, 300},
                             FileWriterCase{"right_guess_by_blocks", 100000, 1000, 1},
                             FileWriterCase{"empty_payload", 0, 700, 300},
                             FileWriterCase{"block_sized_payload", 1024, 700, 300},
                             // The content is moved towards the start, or towards the end; by
                             // less than itself (overlapping) and by more (disjoint).
                             FileWriterCase{"guess_too_large", 100000, 5000, 300},
                             FileWriterCase{"guess_far_too_large", 3000, 50000, 300},
                             FileWriterCase{"guess_too_small", 100000, 1, 1},
                             FileWriterCase{"guess_none", 3000000, 0, 0},
                             FileWriterCase{"guess_too_small_tiny_payload", 10, 0, 0},
                             FileWriterCase{"moved_empty_payload", 0, 0, 0}),
                         [](const ::testing::TestParamInfo<FileWriterCase>& param) {
                           return param.param.name;
                         });

TEST_F(TarFileTest, WriterMisuseIsCaught) {
  const std::vector<uint64_t> guesses = {10};
  TarFileWriter tar(fd_, "archive.tar", guesses);
  ASSERT_TRUE(tar.content().Write(AsBytes("payload")).has_value());
  const std::vector<TarMember> bad = {{"../manifest.json", AsBytes("{}")}};
  Status s = tar.Finish(bad, "payload", kMtime);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument) << s.error().ToString();
  s = tar.Finish({}, "payload", kMtime);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition) << s.error().ToString();
  s = tar.content().Write(AsBytes("more"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition) << s.error().ToString();
}

TEST_F(TarFileTest, WriterIoErrorIsUnavailable) {
  const int read_only = ::open(dir_.File("archive.tar").c_str(), O_RDONLY);
  ASSERT_GE(read_only, 0);
  TarFileWriter tar(read_only, "archive.tar", {});
  Status s = tar.content().Write(AsBytes("payload"));
  ::close(read_only);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable) << s.error().ToString();
  EXPECT_NE(s.error().message().find("archive.tar"), std::string::npos);
}

TEST(TarReader, TrailingZeroRecordPaddingIsAccepted) {
  Bytes archive = SampleArchive(PatternBytes(10, 8));
  archive.resize(10240, 0);  // GNU tar pads to a 10 KiB record
  EXPECT_TRUE(ReadTarArchive(archive).has_value());
}

TEST(TarReader, EntrySizeLimit) {
  const Bytes archive = SampleArchive(PatternBytes(3000, 9));
  Result<std::vector<TarFile>> files =
      ReadTarArchive(archive, TarReadOptions{.max_entry_size = 2999});
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(files.error().message().find("payload.jsonl.age"), std::string::npos)
      << files.error().message();
}

TEST(TarReader, ErrorsAreLatched) {
  Bytes archive = SampleArchive(PatternBytes(10, 8));
  archive[3] ^= 1;
  SpanSource source(archive);
  TarReader reader(source);
  EXPECT_EQ(reader.Next().error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(reader.Next().error().code(), ErrorCode::kDataLoss);
}

// ---- interoperability with GNU tar -----------------------------------------

class TarInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("tar")) GTEST_SKIP() << "tar not installed";
  }
  TempDir dir_;
};

TEST_F(TarInterop, GnuTarListsAndExtractsCustosArchives) {
  const Bytes payload = PatternBytes(100000, 10);
  const Bytes archive = SampleArchive(payload);
  WriteText(dir_.File("p.tar"), std::string(AsChars(archive)));
  const auto list = RunShell(dir_.path(), "TZ=UTC tar -tvf p.tar");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.err, "");
  // "-rw-r--r-- custos/custos     8 2026-11-27 07:33 manifest.json" (column
  // widths vary between tar versions, so compare fields).
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(list.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    lines.emplace_back(std::istream_iterator<std::string>(fields),
                       std::istream_iterator<std::string>());
  }
  ASSERT_EQ(lines.size(), 2u) << list.out;
  EXPECT_EQ(lines[0], (std::vector<std::string>{"-rw-r--r--", "custos/custos", "8", "2026-11-27",
                                                "07:33", "manifest.json"}));
  EXPECT_EQ(lines[1], (std::vector<std::string>{"-rw-r--r--", "custos/custos", "100000",
                                                "2026-11-27", "07:33", "payload.jsonl.age"}));
  const auto extract = RunShell(dir_.path(), "mkdir out && tar -xf p.tar -C out");
  ASSERT_EQ(extract.exit_code, 0) << extract.err;
  EXPECT_EQ(extract.err, "");
  EXPECT_EQ(Slurp(dir_.File("out/manifest.json")), "{\"v\":1}\n");
  EXPECT_EQ(Slurp(dir_.File("out/payload.jsonl.age")), std::string(AsChars(payload)));
}

TEST_F(TarInterop, CustosReadsGnuTarUstarArchives) {
  WriteText(dir_.File("a.txt"), "alpha\n");
  const std::string big(70000, 'b');
  WriteText(dir_.File("b.bin"), big);
  const auto r =
      RunShell(dir_.path(), "chmod 644 a.txt b.bin && tar --format=ustar -cf x.tar a.txt b.bin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string archive = Slurp(dir_.File("x.tar"));
  EXPECT_EQ(archive.size() % 10240, 0u);
  Result<std::vector<TarFile>> files = ReadTarArchive(AsBytes(archive));
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].entry.name, "a.txt");
  EXPECT_EQ(std::string(AsChars((*files)[0].content)), "alpha\n");
  EXPECT_EQ(std::string(AsChars((*files)[1].content)), big);
}

TEST_F(TarInterop, GnuFormatArchivesAreRefused) {
  WriteText(dir_.File("a.txt"), "alpha\n");
  const auto r = RunShell(dir_.path(), "tar --format=gnu -cf g.tar a.txt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::vector<TarFile>> files = ReadTarArchive(AsBytes(Slurp(dir_.File("g.tar"))));
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(files.error().message().find("GNU"), std::string::npos) << files.error().message();
}

TEST_F(TarInterop, GnuTarSymlinksAreRefused) {
  WriteText(dir_.File("a.txt"), "alpha\n");
  const auto r =
      RunShell(dir_.path(), "ln -s /etc/passwd link && tar --format=ustar -cf l.tar a.txt link");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::vector<TarFile>> files = ReadTarArchive(AsBytes(Slurp(dir_.File("l.tar"))));
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(files.error().message().find("'link'"), std::string::npos) << files.error().message();
}

}  // namespace
}  // namespace custos::package
