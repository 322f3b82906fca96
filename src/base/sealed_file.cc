#include "base/sealed_file.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace custos {

Status SealedFile::Write(std::string_view data) {
  size_ += data.size();
  while (!data.empty()) {
    if (pending_.empty() && data.size() >= kBlockBytes) {  // a whole block, not copied
      RETURN_IF_ERROR(blocks_.Append(data.substr(0, kBlockBytes)).map([](uint32_t) {}));
      data.remove_prefix(kBlockBytes);
      continue;
    }
    const size_t take = std::min(kBlockBytes - pending_.size(), data.size());
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (pending_.size() == kBlockBytes) {
      RETURN_IF_ERROR(blocks_.Append(pending_).map([](uint32_t) {}));
      pending_.clear();
    }
  }
  return Ok();
}

Status SealedFile::Finish() {
  if (pending_.empty()) return Ok();
  RETURN_IF_ERROR(blocks_.Append(pending_).map([](uint32_t) {}));
  std::fill(pending_.begin(), pending_.end(), '\0');
  pending_.clear();
  return Ok();
}

namespace {

std::mutex names_mu;
std::map<std::string, std::shared_ptr<const SealedFile>>& Names() {
  static auto* names = new std::map<std::string, std::shared_ptr<const SealedFile>>;
  return *names;
}

}  // namespace

void NameSealedFile(const std::string& path, std::shared_ptr<const SealedFile> file) {
  std::lock_guard lock(names_mu);
  Names()[path] = std::move(file);
}

void UnnameSealedFile(const std::string& path) {
  std::lock_guard lock(names_mu);
  Names().erase(path);
}

std::shared_ptr<const SealedFile> FindSealedFile(const std::string& path) {
  std::lock_guard lock(names_mu);
  auto it = Names().find(path);
  return it == Names().end() ? nullptr : it->second;
}

}  // namespace custos
