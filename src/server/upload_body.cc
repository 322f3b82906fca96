#include "server/upload_body.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file.h"

namespace custos::server {
namespace {

constexpr std::string_view kZipMagic = "PK\x03\x04";
constexpr std::string_view kOle2Magic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

}  // namespace

UploadSink::~UploadSink() {
  if (memfd_ >= 0) ::close(memfd_);
}

Status UploadSink::Decide() {
  decided_ = true;
  if (std::string_view(head_).starts_with(kZipMagic) ||
      std::string_view(head_).starts_with(kOle2Magic)) {
    memfd_ = ::memfd_create("custos-upload", MFD_CLOEXEC);
    if (memfd_ < 0) return Fail(Unavailable("cannot hold an upload in memory"));
  } else {
    sealed_ = std::make_shared<SealedFile>(spool_);
  }
  std::string head = std::move(head_);
  head_.clear();
  return Deliver(head);
}

Status UploadSink::Deliver(std::string_view data) {
  if (sealed_) return sealed_->Write(data);
  while (!data.empty()) {
    const ssize_t n = ::write(memfd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(
          Unavailable(std::string("cannot hold an upload in memory: ") + std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status UploadSink::Put(std::string_view data) {
  Status st = PutUnchecked(data);
  if (!st) error_ = st.error();
  return st;
}

Status UploadSink::PutUnchecked(std::string_view data) {
  if (error_) return Fail(*error_);
  if (decided_) return Deliver(data);
  const size_t want = kOle2Magic.size() - head_.size();
  head_.append(data.substr(0, want));
  data.remove_prefix(std::min(want, data.size()));
  if (head_.size() < kOle2Magic.size()) return Ok();
  RETURN_IF_ERROR(Decide());
  return Deliver(data);
}

Status UploadSink::Finish() {
  if (error_) return Fail(*error_);
  Status st = decided_ ? Ok() : Decide();
  if (st && sealed_) st = sealed_->Finish();
  if (!st) error_ = st.error();
  return st;
}

}  // namespace custos::server
