// The ZIP container of an .xlsx workbook: libzip behind a small interface
// that checks every part's size and expansion before inflating it. See
// zip_archive.h.
#include "ingest/zip_archive.h"

#include <algorithm>

#include "ingest/xlsx_text.h"

namespace custos::ingest::internal {
namespace {

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::string ZipErrorText(zip_error_t* error) {
  const char* s = zip_error_strerror(error);
  return s != nullptr ? s : "unknown error";
}

}  // namespace

ZipEntryReader::~ZipEntryReader() { zip_fclose(file_); }

Result<size_t> ZipEntryReader::Read(std::string& out, size_t n) {
  const size_t old = out.size();
  out.resize(old + n);
  const zip_int64_t got = zip_fread(file_, out.data() + old, n);
  if (got < 0) {
    out.resize(old);
    return Fail(InvalidArgument(where_ +
                                ": corrupt ZIP entry: " + ZipErrorText(zip_file_get_error(file_))));
  }
  out.resize(old + static_cast<size_t>(got));
  consumed_ += static_cast<uint64_t>(got);
  // libzip checks the CRC at the end; the size we check ourselves, so
  // that the limits checked against the declared size hold.
  if (consumed_ > size_) {
    return Fail(InvalidArgument(where_ + ": corrupt ZIP entry: larger than its declared size"));
  }
  return static_cast<size_t>(got);
}

ZipArchive::~ZipArchive() {
  if (zip_ != nullptr) zip_discard(zip_);
}

bool ZipArchive::Has(const std::string& part) const {
  return zip_name_locate(zip_, part.c_str(), ZIP_FL_NOCASE) >= 0;
}

Result<std::unique_ptr<ZipArchive>> ZipArchive::Finish(std::unique_ptr<ZipArchive> archive,
                                                       zip_t* zip, int code) {
  if (zip != nullptr) {
    archive->zip_ = zip;
    return archive;
  }
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  const std::string text = ZipErrorText(&error);
  zip_error_fini(&error);
  const std::string& name = archive->name_;
  switch (code) {
    case ZIP_ER_NOZIP:
      return Fail(InvalidArgument(name + ": not a ZIP archive, so not an .xlsx workbook"));
    case ZIP_ER_NOENT:
      return Fail(NotFound(name + ": no such file"));
    case ZIP_ER_MEMORY:
      return Fail(Internal(name + ": out of memory opening the ZIP archive"));
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_SEEK:
      return Fail(Unavailable(name + ": cannot read: " + text));
    default:
      return Fail(InvalidArgument(name + ": corrupt ZIP archive: " + text));
  }
}

Result<std::unique_ptr<ZipArchive>> ZipArchive::OpenFile(const std::string& path) {
  std::unique_ptr<ZipArchive> archive(new ZipArchive(path, ""));
  int code = ZIP_ER_OK;
  zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY, &code);
  return Finish(std::move(archive), zip, code);
}

Result<std::unique_ptr<ZipArchive>> ZipArchive::OpenMemory(std::string data,
                                                           const std::string& name) {
  std::unique_ptr<ZipArchive> archive(new ZipArchive(name, std::move(data)));
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source =
      zip_source_buffer_create(archive->data_.data(), archive->data_.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return Fail(Internal(name + ": cannot create a ZIP source"));
  }
  zip_t* zip = zip_open_from_source(source, ZIP_RDONLY, &error);
  const int code = zip_error_code_zip(&error);
  zip_error_fini(&error);
  if (zip == nullptr) zip_source_free(source);
  return Finish(std::move(archive), zip, code);
}

Result<std::unique_ptr<ZipEntryReader>> ZipArchive::Open(const std::string& part,
                                                         uint64_t max_bytes) const {
  const std::string where = name_ + ": " + ForMessage(part, 128);
  const zip_int64_t index = zip_name_locate(zip_, part.c_str(), ZIP_FL_NOCASE);
  if (index < 0) return Fail(InvalidArgument(where + ": no such part in the workbook"));
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip_, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
      (st.valid & ZIP_STAT_SIZE) == 0 || (st.valid & ZIP_STAT_COMP_SIZE) == 0) {
    return Fail(InvalidArgument(where + ": corrupt ZIP entry: no size"));
  }
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
    return Fail(InvalidArgument(
        where +
        ": the ZIP entry is encrypted; password-protected workbooks are not supported; "
        "save without a password"));
  }
  if (st.size > max_bytes) {
    return Fail(InvalidArgument(where + ": " + std::to_string(st.size) +
                                " bytes uncompressed, more than the limit of " + MiB(max_bytes)));
  }
  if (st.size > kZipRatioCheckAbove &&
      st.size / std::max<uint64_t>(st.comp_size, 1) > kZipMaxExpansion) {
    return Fail(InvalidArgument(where + ": expands from " + std::to_string(st.comp_size) + " to " +
                                std::to_string(st.size) + " bytes, more than " +
                                std::to_string(kZipMaxExpansion) +
                                " times: refusing a possible zip bomb"));
  }
  zip_file_t* file = zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    return Fail(InvalidArgument(
        where + ": cannot open the ZIP entry: " + ZipErrorText(zip_get_error(zip_))));
  }
  return std::make_unique<ZipEntryReader>(file, where, st.size);
}

Result<std::string> ZipArchive::ReadWhole(const std::string& part, uint64_t max_bytes) const {
  ASSIGN_OR_RETURN(std::unique_ptr<ZipEntryReader> entry, Open(part, max_bytes));
  std::string out;
  out.reserve(static_cast<size_t>(entry->size()));
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, entry->Read(out, kZipReadChunk));
    if (n == 0) break;
  }
  return out;
}

}  // namespace custos::ingest::internal
