#include "tlog/audit_log.h"

#include <bit>
#include <cstring>

#include "base/time.h"

namespace custos::tlog {
namespace {

using json = nlohmann::ordered_json;

constexpr int kEntryVersion = 1;
constexpr const char* kMembers[] = {"v",       "seq",     "time",   "actor",
                                    "action",  "purpose", "objects", "result"};

Hash ToHash(const Bytes& b) {
  Hash h{};
  std::memcpy(h.data(), b.data(), std::min(b.size(), h.size()));
  return h;
}

// Frontier fold: the root of a tree whose complete subtrees are `f`.
Hash FoldFrontier(const std::vector<Hash>& f) {
  if (f.empty()) return EmptyRoot();
  Hash r = f.back();
  for (size_t i = f.size() - 1; i-- > 0;) r = NodeHash(f[i], r);
  return r;
}

// Adds a leaf to an in-memory frontier of a tree of `size` leaves.
void PushLeaf(std::vector<Hash>& f, uint64_t size, Hash h) {
  for (uint64_t idx = size; idx & 1; idx >>= 1) {
    h = NodeHash(f.back(), h);
    f.pop_back();
  }
  f.push_back(h);
}

}  // namespace

std::string EncodeEntry(uint64_t seq, int64_t unix_time, const Event& e) {
  json j;
  j["v"] = kEntryVersion;
  j["seq"] = seq;
  j["time"] = FormatRfc3339(unix_time);
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["purpose"] = e.purpose;
  j["objects"] = e.objects.is_object() ? e.objects : json::object();
  j["result"] = e.result;
  // No insignificant whitespace; UTF-8 as is; invalid UTF-8 replaced rather
  // than thrown (an actor name from the environment could hold anything).
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

Result<Entry> ParseEntry(std::string_view data) {
  auto bad = [](const std::string& why) { return Fail(DataLoss("malformed audit entry: " + why)); };
  json j = json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.size() != std::size(kMembers)) return bad("wrong number of members");
  size_t i = 0;
  for (auto it = j.begin(); it != j.end(); ++it, ++i) {
    if (it.key() != kMembers[i]) return bad("member " + std::to_string(i) + " is not '" + kMembers[i] + "'");
  }
  if (!j["v"].is_number_unsigned() || j["v"].get<int>() != kEntryVersion) return bad("unknown version");
  if (!j["seq"].is_number_unsigned()) return bad("seq is not a number");
  for (const char* k : {"time", "actor", "action", "purpose", "result"}) {
    if (!j[k].is_string()) return bad(std::string(k) + " is not a string");
  }
  if (!j["objects"].is_object()) return bad("objects is not an object");
  Entry e;
  e.seq = j["seq"].get<uint64_t>();
  e.time = j["time"].get<std::string>();
  e.event.actor = j["actor"].get<std::string>();
  e.event.action = j["action"].get<std::string>();
  e.event.purpose = j["purpose"].get<std::string>();
  e.event.objects = j["objects"];
  e.event.result = j["result"].get<std::string>();
  // The bytes must be exactly what EncodeEntry writes: no reformatting.
  if (j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace) != data) {
    return bad("not in canonical form");
  }
  return e;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store, std::string origin,
                                                 const crypto::Signer& signer) {
  std::unique_ptr<AuditLog> log(new AuditLog(store, std::move(origin), signer));
  RETURN_IF_ERROR(log->Reload());
  return log;
}

VerifierKey AuditLog::verifier_key() const {
  VerifierKey k;
  k.name = origin_;
  k.key = signer_.public_key();
  k.hash = NoteKeyHash(origin_, k.key);
  return k;
}

Status AuditLog::Reload() {
  ASSIGN_OR_RETURN(size_, store_.CountAuditEntries());
  frontier_.clear();
  uint64_t start = 0;
  for (int level = 63; level >= 0; --level) {
    uint64_t width = uint64_t{1} << level;
    if ((size_ & width) == 0) continue;
    ASSIGN_OR_RETURN(Hash h, Node(static_cast<uint32_t>(level), start >> level));
    frontier_.push_back(h);
    start += width;
  }
  return Ok();
}

Result<Hash> AuditLog::Node(uint32_t level, uint64_t index) {
  ASSIGN_OR_RETURN(std::optional<Bytes> h, store_.GetAuditNode(level, index));
  if (!h || h->size() != 32) {
    return Fail(DataLoss("audit tree node (level " + std::to_string(level) + ", index " +
                         std::to_string(index) + ") is missing or damaged"));
  }
  return ToHash(*h);
}

Result<Hash> AuditLog::RangeHash(uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (std::has_single_bit(n)) {
    if (begin % n != 0) return Fail(Internal("unaligned subtree requested"));
    auto level = static_cast<uint32_t>(std::countr_zero(n));
    return Node(level, begin >> level);
  }
  uint64_t k = std::bit_floor(n - 1);
  ASSIGN_OR_RETURN(Hash left, RangeHash(begin, begin + k));
  ASSIGN_OR_RETURN(Hash right, RangeHash(begin + k, end));
  return NodeHash(left, right);
}

Result<uint64_t> AuditLog::Append(const Event& event) {
  uint64_t seq = size_;
  std::string data = EncodeEntry(seq, NowUnixSeconds(), event);
  RETURN_IF_ERROR(store_.AppendAuditEntry(seq, AsBytes(data)));
  Hash h = LeafHash(AsBytes(data));
  RETURN_IF_ERROR(store_.PutAuditNode(0, seq, h));
  uint32_t level = 0;
  for (uint64_t idx = seq; idx & 1; idx >>= 1) {
    h = NodeHash(frontier_.back(), h);
    frontier_.pop_back();
    ++level;
    RETURN_IF_ERROR(store_.PutAuditNode(level, idx >> 1, h));
  }
  frontier_.push_back(h);
  size_ = seq + 1;
  return seq;
}

Status AuditLog::SignCheckpoint() {
  ASSIGN_OR_RETURN(std::optional<store::CheckpointRow> last, store_.LatestCheckpoint());
  if (last) {
    if (last->size == size_) return Ok();
    if (last->size > size_) {
      return Fail(DataLoss("the audit log has " + std::to_string(size_) +
                           " entries but a checkpoint covers " + std::to_string(last->size)));
    }
    ASSIGN_OR_RETURN(std::string body, VerifyNote(last->note, verifier_key()));
    ASSIGN_OR_RETURN(Checkpoint old, ParseCheckpoint(body));
    ASSIGN_OR_RETURN(Hash root, RootAt(old.size));
    if (root != old.root) {
      return Fail(DataLoss("the stored audit tree no longer has the root of the checkpoint at "
                           "size " + std::to_string(old.size) +
                           "; refusing to sign an inconsistent checkpoint (run custos audit verify)"));
    }
  } else if (size_ == 0) {
    return Ok();
  }
  Checkpoint c{origin_, size_, FoldFrontier(frontier_)};
  store::CheckpointRow row;
  row.size = size_;
  row.note = SignNote(FormatCheckpoint(c), origin_, signer_);
  row.created_at = NowUnixSeconds();
  return store_.PutCheckpoint(row);
}

Result<Hash> AuditLog::RootAt(uint64_t size) {
  if (size > size_) {
    return Fail(InvalidArgument("the log has " + std::to_string(size_) + " entries, not " +
                                std::to_string(size)));
  }
  if (size == size_) return FoldFrontier(frontier_);
  return RangeHash(0, size);
}

Result<InclusionProof> AuditLog::ProveInclusion(uint64_t index, uint64_t size) {
  if (size > size_) {
    return Fail(InvalidArgument("the log has " + std::to_string(size_) + " entries, not " +
                                std::to_string(size)));
  }
  InclusionProof p;
  p.index = index;
  p.size = size;
  ASSIGN_OR_RETURN(p.path, InclusionPath(index, size, [this](uint64_t b, uint64_t e) {
                     return RangeHash(b, e);
                   }));
  ASSIGN_OR_RETURN(p.leaf_hash, Node(0, index));
  ASSIGN_OR_RETURN(p.root, RootAt(size));
  return p;
}

Result<std::vector<Hash>> AuditLog::ProveConsistency(uint64_t old_size, uint64_t new_size) {
  if (new_size > size_) {
    return Fail(InvalidArgument("the log has " + std::to_string(size_) + " entries, not " +
                                std::to_string(new_size)));
  }
  return ConsistencyPath(old_size, new_size,
                         [this](uint64_t b, uint64_t e) { return RangeHash(b, e); });
}

Result<std::optional<store::CheckpointRow>> AuditLog::LatestCheckpoint() {
  return store_.LatestCheckpoint();
}

namespace {

// Shared by VerifyLog and VerifyExport: walks entries in order, checking form
// and seq, and checks each checkpoint (sorted by size) when the walk reaches it.
class Walker {
 public:
  Walker(const VerifierKey& key, std::vector<store::CheckpointRow> checkpoints)
      : key_(key), checkpoints_(std::move(checkpoints)) {}

  Status Entry(uint64_t seq, ByteSpan data, const std::optional<Hash>& stored_leaf) {
    if (seq != count_) {
      return Fail(DataLoss("audit entry at position " + std::to_string(count_) +
                           " is missing or out of order (found seq " + std::to_string(seq) + ")"));
    }
    auto e = ParseEntry(AsChars(data));
    if (!e) return Fail(e.error().WithContext("audit entry " + std::to_string(count_)));
    if (e->seq != count_) {
      return Fail(DataLoss("audit entry " + std::to_string(count_) + " says it is entry " +
                           std::to_string(e->seq) + ": entries were reordered or removed"));
    }
    Hash h = LeafHash(data);
    if (stored_leaf && *stored_leaf != h) {
      return Fail(DataLoss("audit entry " + std::to_string(count_) +
                           " does not match its stored leaf hash: it was edited"));
    }
    PushLeaf(frontier_, count_, h);
    ++count_;
    return CheckpointsUpTo(count_);
  }

  Status Finish() {
    if (next_ < checkpoints_.size()) {
      return Fail(DataLoss("the audit log has " + std::to_string(count_) +
                           " entries but a signed checkpoint covers " +
                           std::to_string(checkpoints_[next_].size) +
                           ": entries were removed from the end"));
    }
    return Ok();
  }

  uint64_t count() const { return count_; }
  uint64_t verified_checkpoints() const { return next_; }
  Hash root() const { return FoldFrontier(frontier_); }

 private:
  Status CheckpointsUpTo(uint64_t size) {
    while (next_ < checkpoints_.size() && checkpoints_[next_].size <= size) {
      const auto& row = checkpoints_[next_];
      std::string where = "checkpoint at size " + std::to_string(row.size);
      auto body = VerifyNote(row.note, key_);
      if (!body) return Fail(body.error().WithContext(where));
      auto c = ParseCheckpoint(*body);
      if (!c) return Fail(DataLoss(where + ": " + c.error().message()));
      if (c->origin != key_.name) return Fail(DataLoss(where + " is for another log: " + c->origin));
      if (c->size != row.size) return Fail(DataLoss(where + " states size " + std::to_string(c->size)));
      if (c->root != FoldFrontier(frontier_)) {
        uint64_t from = next_ == 0 ? 0 : checkpoints_[next_ - 1].size;
        return Fail(DataLoss("the entries do not match the signed " + where +
                             ": the first bad entry is among entries " + std::to_string(from) +
                             " to " + std::to_string(row.size - 1)));
      }
      ++next_;
    }
    return Ok();
  }

  const VerifierKey& key_;
  std::vector<store::CheckpointRow> checkpoints_;
  size_t next_ = 0;
  uint64_t count_ = 0;
  std::vector<Hash> frontier_;
};

}  // namespace

Result<VerifyReport> VerifyLog(store::Store& store, const VerifierKey& key) {
  ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> cps, store.ListCheckpoints());
  Walker w(key, std::move(cps));
  RETURN_IF_ERROR(store.ForEachAuditEntry(0, [&](uint64_t seq, ByteSpan data) -> Status {
    ASSIGN_OR_RETURN(std::optional<Bytes> leaf, store.GetAuditNode(0, seq));
    std::optional<Hash> stored;
    if (leaf && leaf->size() == 32) stored = ToHash(*leaf);
    if (!stored) {
      return Fail(DataLoss("audit entry " + std::to_string(seq) + " has no stored leaf hash"));
    }
    return w.Entry(seq, data, stored);
  }));
  RETURN_IF_ERROR(w.Finish());
  VerifyReport r;
  r.entries = w.count();
  r.checkpoints = w.verified_checkpoints();
  r.root = w.root();
  return r;
}

Result<VerifyReport> VerifyExport(std::string_view checkpoint_note, std::string_view entries_jsonl,
                                  const VerifierKey& key) {
  ASSIGN_OR_RETURN(std::string body, VerifyNote(checkpoint_note, key));
  ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(body));
  store::CheckpointRow row;
  row.size = c.size;
  row.note = std::string(checkpoint_note);
  Walker w(key, {row});
  if (!entries_jsonl.empty() && entries_jsonl.back() != '\n') {
    return Fail(DataLoss("entries.jsonl does not end with a newline: it was truncated"));
  }
  uint64_t seq = 0;
  while (!entries_jsonl.empty()) {
    size_t eol = entries_jsonl.find('\n');
    RETURN_IF_ERROR(w.Entry(seq, AsBytes(entries_jsonl.substr(0, eol)), std::nullopt));
    entries_jsonl.remove_prefix(eol + 1);
    ++seq;
  }
  RETURN_IF_ERROR(w.Finish());
  if (w.count() != c.size) {
    return Fail(DataLoss("entries.jsonl has " + std::to_string(w.count()) +
                         " entries but the checkpoint covers " + std::to_string(c.size)));
  }
  VerifyReport r;
  r.entries = w.count();
  r.checkpoints = 1;
  r.root = w.root();
  return r;
}

}  // namespace custos::tlog
