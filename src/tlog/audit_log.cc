#include "tlog/audit_log.h"

#include <simdjson.h>

#include <bit>
#include <cstring>
#include <span>

#include "base/time.h"

namespace custos::tlog {
namespace {

using json = nlohmann::ordered_json;

// Version 2 added `via` (how the actor authenticated). Entries written
// before it stay version 1 and verify as they are.
constexpr int kEntryVersion = 2;
constexpr const char* kMembersV1[] = {"v",      "seq",     "time",    "actor",
                                      "action", "purpose", "objects", "result"};
constexpr const char* kMembersV2[] = {"v",      "seq",     "time",    "actor",  "via",
                                      "action", "purpose", "objects", "result"};

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
  // Member by member rather than through a json object: building one copies
  // `objects` and costs as much as the rest of an append. Each value goes
  // through nlohmann's serializer, so the bytes are exactly those of dumping
  // the whole entry: no insignificant whitespace, UTF-8 as is, invalid UTF-8
  // replaced rather than thrown (an actor name from the environment could
  // hold anything).
  auto dump = [](const json& v) {
    return v.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
  };
  std::string out;
  out.reserve(176 + e.actor.size() + e.action.size() + e.purpose.size());
  out += "{\"v\":";
  out += std::to_string(kEntryVersion);
  out += ",\"seq\":";
  out += std::to_string(seq);
  out += ",\"time\":\"";
  out += FormatRfc3339(unix_time);  // digits, '-', ':', 'T', 'Z': nothing to escape
  out += "\",\"actor\":";
  out += dump(e.actor);
  out += ",\"via\":";
  out += dump(e.via.empty() ? std::string("key") : e.via);
  out += ",\"action\":";
  out += dump(e.action);
  out += ",\"purpose\":";
  out += dump(e.purpose);
  out += ",\"objects\":";
  out += e.objects.is_object() ? dump(e.objects) : "{}";
  out += ",\"result\":";
  out += dump(e.result);
  out += "}";
  return out;
}

namespace {

// The strict form check every entry passes, in bulk during verification:
// one JSON object (RFC 8259, valid UTF-8), no insignificant whitespace,
// exactly the members of its version (kMembersV1 or kMembersV2) in that
// order, with their types. Returns the entry's seq. simdjson rather than nlohmann here: a full `audit verify`
// checks millions of entries, and nlohmann's DOM parse costs ~5 us each, the
// whole verification budget (performance.md: 1 M entries in <= 3 s).
Result<uint64_t> CheckEntryForm(std::string_view data) {
  auto bad = [](const std::string& why) { return Fail(DataLoss("malformed audit entry: " + why)); };
  // No whitespace between tokens (inside strings it is the string's).
  bool in_string = false;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      return bad("whitespace at byte " + std::to_string(i) + ": not in canonical form");
    }
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(data.data(), data.size(), /*realloc_if_needed=*/true).get(root) !=
      simdjson::SUCCESS) {
    return bad("not a JSON object");
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return bad("not a JSON object");
  uint64_t seq = 0;
  uint64_t version = 0;
  std::span<const char* const> members = kMembersV2;
  size_t i = 0;
  for (auto field : obj) {
    if (i >= members.size()) return bad("wrong number of members");
    if (field.key != members[i]) {
      return bad("member " + std::to_string(i) + " is not '" + members[i] + "'");
    }
    const simdjson::dom::element& v = field.value;
    const std::string_view name = members[i];
    if (i == 0) {
      if (!v.is_uint64() || v.get_uint64().get(version) != simdjson::SUCCESS ||
          version < 1 || version > static_cast<uint64_t>(kEntryVersion)) {
        return bad("unknown version");
      }
      if (version == 1) members = kMembersV1;
    } else if (name == "seq") {
      if (!v.is_uint64() || v.get_uint64().get(seq) != simdjson::SUCCESS) {
        return bad("seq is not a number");
      }
    } else if (name == "objects") {
      if (!v.is_object()) return bad("objects is not an object");
    } else if (!v.is_string()) {  // time, actor, via, action, purpose, result
      return bad(std::string(name) + " is not a string");
    }
    ++i;
  }
  if (i != members.size()) return bad("wrong number of members");
  return seq;
}

}  // namespace

Result<Entry> ParseEntry(std::string_view data) {
  ASSIGN_OR_RETURN(uint64_t seq, CheckEntryForm(data));
  json j = json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(DataLoss("malformed audit entry: not a JSON object"));
  }
  Entry e;
  e.seq = seq;
  e.time = j["time"].get<std::string>();
  e.event.actor = j["actor"].get<std::string>();
  e.event.via = j.contains("via") ? j["via"].get<std::string>() : "key";
  e.event.action = j["action"].get<std::string>();
  e.event.purpose = j["purpose"].get<std::string>();
  e.event.objects = j["objects"];
  e.event.result = j["result"].get<std::string>();
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
  // Read in place rather than moved into a local optional<Bytes>: g++ 12 at
  // -O3 warns (maybe-uninitialized, a false positive) on the move.
  auto read = store_.GetAuditNode(level, index);
  if (!read) return Fail(read.error());
  const std::optional<Bytes>& h = *read;
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

Result<uint64_t> AuditLog::CountNodesFrom(uint64_t size) {
  // Node (level, idx) covers a leaf at or past `size` iff idx >= size >> level;
  // such nodes were written for consecutive leaves, so probe until one is
  // missing.
  uint64_t n = 0;
  for (uint32_t level = 0; level < 63; ++level) {
    for (uint64_t idx = size >> level;; ++idx) {
      auto node = store_.GetAuditNode(level, idx);
      if (!node) return Fail(node.error());
      if (!*node) break;
      ++n;
    }
  }
  return n;
}

Status AuditLog::RecordRepair(const Event& base,
                              const std::vector<store::CheckpointRow>& checkpoints,
                              RepairReport& rep) {
  nlohmann::ordered_json retired = nlohmann::ordered_json::array();
  for (const auto& r : rep.retired) {
    const auto it = std::find_if(checkpoints.begin(), checkpoints.end(),
                                 [&](const store::CheckpointRow& c) { return c.size == r.size; });
    char key[24];
    std::snprintf(key, sizeof key, "%020llu", static_cast<unsigned long long>(r.size));
    const nlohmann::ordered_json kept = {{"size", r.size},
                                         {"root", r.root},
                                         {"reason", r.reason},
                                         {"note", it->note},
                                         {"created_at", it->created_at},
                                         {"retired_at", FormatRfc3339(NowUnixSeconds())}};
    RETURN_IF_ERROR(store_.PutDoc("audit.retired_checkpoint", key, kept.dump()));
    RETURN_IF_ERROR(store_.DeleteCheckpoint(r.size));
    retired.push_back({{"size", r.size}, {"root", r.root}, {"reason", r.reason}});
  }
  RETURN_IF_ERROR(Reload());
  Event e = base;
  e.action = "audit.repair";
  e.objects = {{"entries", rep.entries},
               {"nodes_rewritten", rep.nodes_rewritten},
               {"nodes_removed", rep.nodes_removed},
               {"entries_changed_after_logging", rep.entries_changed},
               {"entries_changed_count", rep.entries_changed_count},
               {"retired_checkpoints", retired}};
  ASSIGN_OR_RETURN(uint64_t seq, Append(e));
  rep.repair_entry = seq;
  return SignCheckpoint();
}

Result<AuditLog::RepairReport> AuditLog::Repair(const Event& base, bool dry_run) {
  RepairReport rep;
  ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> checkpoints, store_.ListCheckpoints());
  size_t next = 0;  // the next checkpoint to compare, by size
  auto retire = [&](const store::CheckpointRow& row, std::string reason) {
    RepairReport::Retired r;
    r.size = row.size;
    r.reason = std::move(reason);
    if (auto body = VerifyNote(row.note, verifier_key())) {
      if (auto c = ParseCheckpoint(*body)) r.root = HexEncode(c->root);
    }
    rep.retired.push_back(std::move(r));
  };
  // Compares the signed checkpoints of size `size` (the tree of the first
  // `size` entries, whose subtrees are `frontier`).
  auto compare = [&](uint64_t size, const std::vector<Hash>& frontier) {
    for (; next < checkpoints.size() && checkpoints[next].size <= size; ++next) {
      const store::CheckpointRow& row = checkpoints[next];
      auto body = VerifyNote(row.note, verifier_key());
      if (!body) {
        retire(row, "its signature does not verify with the vault's key");
        continue;
      }
      auto c = ParseCheckpoint(*body);
      if (!c || c->origin != origin_ || c->size != row.size) {
        retire(row, "its note is malformed or names another log or size");
        continue;
      }
      if (row.size == size && c->root != FoldFrontier(frontier)) {
        retire(row, "its root is not the root of the entries it covers");
      }
    }
  };

  std::vector<Hash> frontier;
  uint64_t count = 0;
  Status walk = store_.ForEachAuditEntry(0, [&](uint64_t seq, ByteSpan data) -> Status {
    if (seq != count) {
      return Fail(DataLoss("audit entry " + std::to_string(count) +
                           " is missing (the next stored is " + std::to_string(seq) +
                           "): a gap cannot be re-derived; restore the vault from a backup"));
    }
    auto form = CheckEntryForm(AsChars(data));
    if (!form) {
      return Fail(form.error().WithContext("audit entry " + std::to_string(seq) +
                                           " cannot be repaired"));
    }
    if (*form != seq) {
      return Fail(DataLoss("audit entry " + std::to_string(seq) + " says it is entry " +
                           std::to_string(*form) + ": entries were reordered; not repairable"));
    }
    Hash h = LeafHash(data);
    // Read in place: g++ 12 at -O3 warns (falsely) on a moved optional<Bytes>.
    auto leaf_read = store_.GetAuditNode(0, seq);
    if (!leaf_read) return Fail(leaf_read.error());
    const std::optional<Bytes>& stored_leaf = *leaf_read;
    if (!stored_leaf || stored_leaf->size() != 32 || ToHash(*stored_leaf) != h) {
      if (stored_leaf && stored_leaf->size() == 32) {
        if (rep.entries_changed.size() < 100) rep.entries_changed.push_back(seq);
        ++rep.entries_changed_count;
      }
      ++rep.nodes_rewritten;
      if (!dry_run) RETURN_IF_ERROR(store_.ReplaceAuditNode(0, seq, h));
    }
    // The complete subtrees this leaf closes, as Append writes them.
    uint32_t level = 0;
    for (uint64_t idx = seq; idx & 1; idx >>= 1) {
      h = NodeHash(frontier.back(), h);
      frontier.pop_back();
      ++level;
      auto node_read = store_.GetAuditNode(level, idx >> 1);
      if (!node_read) return Fail(node_read.error());
      const std::optional<Bytes>& stored = *node_read;
      if (!stored || stored->size() != 32 || ToHash(*stored) != h) {
        ++rep.nodes_rewritten;
        if (!dry_run) RETURN_IF_ERROR(store_.ReplaceAuditNode(level, idx >> 1, h));
      }
    }
    frontier.push_back(h);
    ++count;
    compare(count, frontier);
    return Ok();
  });
  RETURN_IF_ERROR(walk);
  rep.entries = count;
  if (dry_run) {
    // Counted without deleting: the nodes that cover a leaf past the end.
    ASSIGN_OR_RETURN(rep.nodes_removed, CountNodesFrom(count));
  } else {
    ASSIGN_OR_RETURN(rep.nodes_removed, store_.DeleteAuditNodesFrom(count));
  }
  for (; next < checkpoints.size(); ++next) {
    retire(checkpoints[next], "it covers " + std::to_string(checkpoints[next].size) +
                                  " entries but the log holds " + std::to_string(count) +
                                  ": the entries past " + std::to_string(count) + " are lost");
  }
  if (dry_run || !rep.changed()) return rep;

  RETURN_IF_ERROR(RecordRepair(base, checkpoints, rep));
  return rep;
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
    auto entry_seq = CheckEntryForm(AsChars(data));
    if (!entry_seq) {
      return Fail(entry_seq.error().WithContext("audit entry " + std::to_string(count_)));
    }
    if (*entry_seq != count_) {
      return Fail(DataLoss("audit entry " + std::to_string(count_) + " says it is entry " +
                           std::to_string(*entry_seq) + ": entries were reordered or removed"));
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
  // Entries covered by the largest verified checkpoint.
  uint64_t covered() const { return next_ == 0 ? 0 : checkpoints_[next_ - 1].size; }
  // The complete subtrees of the entries walked, left to right.
  const std::vector<Hash>& frontier() const { return frontier_; }
  // When a checkpoint's root did not match: the entries it added.
  std::optional<std::pair<uint64_t, uint64_t>> failed_range() const { return failed_range_; }
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
        failed_range_ = std::make_pair(from, row.size - 1);
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
  std::optional<std::pair<uint64_t, uint64_t>> failed_range_;
};

}  // namespace

namespace {

// The stored hash of node (level, index), or nullopt when it is missing or
// not 32 bytes.
Result<std::optional<Hash>> StoredNode(store::Store& store, uint32_t level, uint64_t index) {
  auto read = store.GetAuditNode(level, index);
  if (!read) return Fail(read.error());
  const std::optional<Bytes>& h = *read;
  if (!h || h->size() != 32) return std::optional<Hash>();
  return std::optional<Hash>(ToHash(*h));
}

// After a checkpoint's root failed to match entries [from, to]: the first of
// them whose stored leaf hash differs from its bytes, if any (a careless
// edit). Only the failing range is read.
Result<std::optional<uint64_t>> FirstEditedEntry(store::Store& store, uint64_t from, uint64_t to) {
  std::optional<uint64_t> edited;
  bool stopped = false;
  Status scan = store.ForEachAuditEntry(from, [&](uint64_t seq, ByteSpan data) -> Status {
    if (seq > to || edited) {
      stopped = true;
      return Fail(Internal("scan stopped"));  // the visitor's way to end the scan early
    }
    ASSIGN_OR_RETURN(std::optional<Hash> stored, StoredNode(store, 0, seq));
    if (!stored || *stored != LeafHash(data)) edited = seq;
    return Ok();
  });
  if (!scan && !stopped) return Fail(scan.error());
  return edited;
}

}  // namespace

Result<VerifyReport> VerifyLog(store::Store& store, const VerifierKey& key) {
  // Checkpoints and entries of one state: another process appending between
  // the two reads must not look like entries cut from the end.
  store::ReadSnapshot snapshot(store);
  RETURN_IF_ERROR(snapshot.status());
  ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> cps, store.ListCheckpoints());
  Walker w(key, std::move(cps));
  // One sequential pass over the entries; stored leaf hashes are read only to
  // name an edited entry once a checkpoint's root has failed to match (a
  // point read per entry would double the cost of verifying a large log).
  std::vector<uint64_t> repairs, break_glass;
  Status walk = store.ForEachAuditEntry(0, [&](uint64_t seq, ByteSpan data) -> Status {
    // Entries are canonical JSON, so the member reads exactly so.
    const std::string_view text = AsChars(data);
    if (text.find(",\"action\":\"audit.repair\",") != std::string_view::npos) {
      repairs.push_back(seq);
    }
    // The first "via" is the entry's own (the actor before it is escaped).
    constexpr std::string_view kBreakGlass = ",\"via\":\"break-glass\",";
    if (const size_t via = text.find(",\"via\":");
        via != std::string_view::npos && text.compare(via, kBreakGlass.size(), kBreakGlass) == 0) {
      break_glass.push_back(seq);
    }
    return w.Entry(seq, data, std::nullopt);
  });
  if (!walk) {
    if (auto range = w.failed_range()) {
      ASSIGN_OR_RETURN(std::optional<uint64_t> edited,
                       FirstEditedEntry(store, range->first, range->second));
      if (edited) {
        return Fail(DataLoss("audit entry " + std::to_string(*edited) +
                             " does not match its stored leaf hash: it was edited (" +
                             walk.error().message() + ")"));
      }
    }
    return Fail(walk.error());
  }
  RETURN_IF_ERROR(w.Finish());
  // Every command appends its entries and signs a checkpoint in one
  // transaction, so entries past the last checkpoint were not written by
  // Custos: someone without the signing key added them.
  if (w.count() > w.covered()) {
    return Fail(DataLoss("audit entries " + std::to_string(w.covered()) + " to " +
                         std::to_string(w.count() - 1) +
                         " are not covered by any signed checkpoint: they were added without "
                         "the vault's signing key"));
  }
  // The stored tree that appends and proofs build on must be the verified
  // one: its complete subtrees at the current size (O(log n) reads).
  const std::vector<Hash>& frontier = w.frontier();
  uint64_t start = 0;
  size_t k = 0;
  for (int level = 63; level >= 0; --level) {
    uint64_t width = uint64_t{1} << level;
    if ((w.count() & width) == 0) continue;
    auto lvl = static_cast<uint32_t>(level);
    ASSIGN_OR_RETURN(std::optional<Hash> node, StoredNode(store, lvl, start >> level));
    if (!node || k >= frontier.size() || *node != frontier[k]) {
      return Fail(DataLoss("the stored audit tree node (level " + std::to_string(level) +
                           ", entries " + std::to_string(start) + " to " +
                           std::to_string(start + width - 1) +
                           ") does not match the entries: the tree was damaged or rebuilt"));
    }
    start += width;
    ++k;
  }
  VerifyReport r;
  r.entries = w.count();
  r.checkpoints = w.verified_checkpoints();
  r.root = w.root();
  r.repairs = std::move(repairs);
  r.break_glass = std::move(break_glass);
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
