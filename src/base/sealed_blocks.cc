#include "base/sealed_blocks.h"

#include <sodium.h>
#include <unistd.h>

#include <cstdlib>

#include "base/file.h"

namespace custos {
namespace {

using Nonce = std::array<uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES>;

// Block numbers are distinct and the key is used by one object only, so
// the block number is a nonce never repeated under the key.
Nonce NonceOf(uint32_t number) {
  Nonce n{};
  for (int i = 0; i < 4; ++i) n[static_cast<size_t>(i)] = static_cast<uint8_t>(number >> (8 * i));
  return n;
}

}  // namespace

static_assert(crypto_aead_chacha20poly1305_IETF_ABYTES == 16);

SealedBlocks::SealedBlocks(std::string dir) : dir_(std::move(dir)) {
  if (sodium_init() < 0) std::abort();  // randombytes needs it
  crypto_aead_chacha20poly1305_ietf_keygen(key_.data());
}

SealedBlocks::~SealedBlocks() {
  sodium_memzero(key_.data(), key_.size());
  if (fd_ >= 0) ::close(fd_);
}

Result<uint32_t> SealedBlocks::Append(std::string_view data) {
  if (failed_) return Fail(*failed_);
  if (fd_ < 0) {
    ASSIGN_OR_RETURN(fd_, CreateUnnamedTempFile(dir_));
  }
  const uint32_t number = blocks();
  const Nonce nonce = NonceOf(number);
  sealed_.resize(data.size() + crypto_aead_chacha20poly1305_IETF_ABYTES);
  unsigned long long sealed_size = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(
      sealed_.data(), &sealed_size, reinterpret_cast<const unsigned char*>(data.data()),
      data.size(), nullptr, 0, nullptr, nonce.data(), key_.data());
  Status written = PwriteFully(fd_, sealed_.data(), sealed_size, offsets_.back(), dir_);
  if (!written) {
    // The block number was used as a nonce: never again, so no more blocks.
    failed_ = written.error();
    return Fail(written.error());
  }
  offsets_.push_back(offsets_.back() + sealed_size);
  return number;
}

Status SealedBlocks::Read(uint32_t number, std::string& out) const {
  const uint64_t begin = offsets_[number];
  const size_t size = static_cast<size_t>(offsets_[number + 1] - begin);
  // Read and opened in place, in the caller's buffer: readers share nothing.
  out.resize(size);
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  RETURN_IF_ERROR(PreadFully(fd_, bytes, size, begin));
  const Nonce nonce = NonceOf(number);
  unsigned long long opened = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(bytes, &opened, nullptr, bytes, size, nullptr, 0,
                                                nonce.data(), key_.data()) != 0) {
    out.clear();
    return Fail(
        DataLoss("a block of a temporary file does not authenticate: "
                 "the file was altered while in use"));
  }
  out.resize(opened);
  return Ok();
}

}  // namespace custos
