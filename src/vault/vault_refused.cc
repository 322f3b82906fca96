// Attempts refused before the vault could be opened (a wrong key): noted
// without the key, in a file beside a vault file or as documents of a
// database vault, and folded into the audit log as a count and a keyed
// hash by the next open (vault.h: NoteRefusedAttempt).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/time.h"
#include "crypto/random.h"
#include "vault/vault.h"

namespace custos::vault {

namespace {
std::string RefusedPath(const std::string& vault_path) { return vault_path + ".refused"; }
// Notes being folded: renamed under the vault's write lock, so that attempts
// noted meanwhile go to a new file and two processes never fold one note.
std::string ClaimedRefusedPath(const std::string& vault_path) {
  return vault_path + ".refused.folding";
}
// The keyed hash of the notes last folded (HMAC-SHA256 under a key derived
// from the index root), to recognise a claimed file already in the log.
constexpr std::string_view kMetaRefusedFolded = "refused_folded";
// A PostgreSQL vault's notes: documents, folded and deleted in one
// transaction (no claim, no marker: nothing can be half-folded).
constexpr std::string_view kRefusedKind = "refused_attempt";

// The event that folds `text` (the notes, one JSON line each).
tlog::Event RefusedEvent(std::string_view text, const std::string& hash) {
  uint64_t attempts = 0, unreadable = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    ++(j.is_object() ? attempts : unreadable);
  }
  tlog::Event e;
  e.actor = "unknown";  // whoever tried is not known: the note could say anything
  e.action = "vault.refused";
  e.result = "refused";
  e.objects = {
      {"attempts", attempts}, {"unreadable_notes", unreadable}, {"notes_hmac_sha256", hash}};
  return e;
}
}  // namespace

Status NoteRefusedAttempt(const std::string& vault_path, const std::string& actor,
                          const std::string& command, const std::string& reason) {
  nlohmann::ordered_json j = {
      {"time", NowUnixSeconds()}, {"actor", actor}, {"command", command}, {"reason", reason}};
  std::string line = j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace) + "\n";
  if (store::IsPostgresUri(vault_path)) {
    // No file beside a database: the note is a document of the vault's
    // schema, written without the key (nothing else is) and folded the same.
    // Without the write lock: an import holding it for minutes must not
    // keep the attempt from being noted.
    auto s = store::OpenStore(vault_path, {std::chrono::milliseconds(2000)});
    if (!s) return s.error().code() == ErrorCode::kNotFound ? Ok() : Fail(s.error());
    Bytes r(8);
    crypto::RandomFill(r);
    return (*s)->PutNote(kRefusedKind, std::to_string(NowUnixSeconds()) + "-" + HexEncode(r), line);
  }
  if (!FileExists(vault_path)) return Ok();  // nothing to protect, nothing to note
  std::string path = RefusedPath(vault_path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(Unavailable("cannot note the refused attempt in " + path));
  ssize_t n = ::write(fd, line.data(), line.size());
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return Fail(Unavailable("cannot note the refused attempt in " + path));
  }
  return Ok();
}

// The notes are written by a process that could not open the vault, so
// nothing in them is authenticated: anyone who can write beside the vault
// can plant text there. The log therefore takes none of it (no actor, time,
// command or reason, any of which could carry personal data): only how many
// notes there were and the keyed hash of the file, which proves later which
// file was folded without revealing it.
Result<bool> Vault::HasRefusedNotes() {
  if (store::IsPostgresUri(path_)) {
    ASSIGN_OR_RETURN(auto waiting, store_->ListDocs(kRefusedKind));
    return !waiting.empty();
  }
  return FileExists(RefusedPath(path_)) || FileExists(ClaimedRefusedPath(path_));
}

Status Vault::FoldRefusedAttempts(bool wait) {
  if (store::IsPostgresUri(path_)) return FoldRefusedDocs(wait);
  const std::string notes = RefusedPath(path_);
  const std::string claimed = ClaimedRefusedPath(path_);
  if (!FileExists(notes) && !FileExists(claimed)) return Ok();
  // Under the write lock; a command must not wait for another process's
  // change just to fold notes, so they wait for a later open instead.
  Status began = BeginWrite(/*try_only=*/!wait);
  if (!began) return began.error().code() == ErrorCode::kUnavailable ? Ok() : began;
  ASSIGN_OR_RETURN(crypto::SecretBytes notes_key, RefusedNotesKey());
  const crypto::HmacSha256 mac(notes_key);
  Status st = [&]() -> Status {
    if (!FileExists(claimed) && ::rename(notes.c_str(), claimed.c_str()) != 0) {
      return Fail(Unavailable("cannot claim " + notes + ": " + std::strerror(errno)));
    }
    ASSIGN_OR_RETURN(std::string text, ReadFile(claimed));
    const std::string hash = HexEncode(mac.Mac(AsBytes(text)));
    // Read in place: g++ 12 at -O3 warns (falsely) on a moved optional<Bytes>.
    auto last = store_->GetMeta(kMetaRefusedFolded);
    if (!last) return Fail(last.error());
    if (*last && AsChars(**last) == hash) return Ok();  // folded by a process that died after
    RETURN_IF_ERROR(audit_->Append(RefusedEvent(text, hash)).map([](uint64_t) {}));
    RETURN_IF_ERROR(audit_->SignCheckpoint());
    return store_->PutMeta(kMetaRefusedFolded, AsBytes(hash));
  }();
  RETURN_IF_ERROR(FinishWrite(std::move(st)));
  // Notes that arrived while these were folded wait for the next open.
  ::unlink(claimed.c_str());
  return Ok();
}

Status Vault::FoldRefusedDocs(bool wait) {
  ASSIGN_OR_RETURN(auto waiting, store_->ListDocs(kRefusedKind));
  if (waiting.empty()) return Ok();
  Status began = BeginWrite(/*try_only=*/!wait);
  if (!began) return began.error().code() == ErrorCode::kUnavailable ? Ok() : began;
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(crypto::SecretBytes notes_key, RefusedNotesKey());
    const crypto::HmacSha256 mac(notes_key);
    // Read again under the lock: another process may have folded them.
    ASSIGN_OR_RETURN(auto notes, store_->ListDocs(kRefusedKind));
    if (notes.empty()) return Ok();
    std::string text;
    for (const auto& [key, body] : notes) {
      text += body;
      RETURN_IF_ERROR(store_->DeleteDoc(kRefusedKind, key));
    }
    const std::string hash = HexEncode(mac.Mac(AsBytes(text)));
    RETURN_IF_ERROR(audit_->Append(RefusedEvent(text, hash)).map([](uint64_t) {}));
    return audit_->SignCheckpoint();
  }();
  return FinishWrite(std::move(st));
}

Result<crypto::SecretBytes> Vault::RefusedNotesKey() const {
  return crypto::HkdfSha256(index_root_, id_, AsBytes("custos/refused-notes/v1"), 32);
}

}  // namespace custos::vault
