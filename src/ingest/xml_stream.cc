// Streaming the XML of an .xlsx part: ElementStream, and the checks and
// decodings every part's XML needs. See xml_stream.h.
#include "ingest/xml_stream.h"

#include <algorithm>
#include <cstring>

#include "ingest/xlsx_text.h"

namespace custos::ingest::internal {
namespace {

// Office XML nests a few levels deep; refusing deeper nesting bounds the
// stack of open elements.
constexpr size_t kMaxXmlDepth = 64;

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The UTF-16 code unit of an "_xHHHH_" escape at s[i], or -1.
int XEscapeAt(std::string_view s, size_t i) {
  if (i + 7 > s.size() || s[i] != '_' || s[i + 1] != 'x' || s[i + 6] != '_') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const int h = HexValue(s[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string_view LocalName(std::string_view qname) {
  const size_t colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

bool HasNulCharRef(std::string_view xml) {
  for (size_t at = xml.find("&#"); at != std::string_view::npos; at = xml.find("&#", at + 2)) {
    size_t i = at + 2;
    const bool hex = i < xml.size() && (xml[i] == 'x' || xml[i] == 'X');
    if (hex) ++i;
    const size_t digits = i;
    while (i < xml.size() && xml[i] == '0') ++i;
    if (i > digits && i < xml.size() && xml[i] == ';') return true;
  }
  return false;
}

std::string LineColOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
}

std::string DecodeXEscapes(std::string s) {
  if (s.find("_x") == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const int u = XEscapeAt(s, i);
    if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF)) {
      out += s[i++];
      continue;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      const int lo = XEscapeAt(s, i + 7);
      if (lo < 0xDC00 || lo > 0xDFFF) {
        out += s[i++];
        continue;
      }
      AppendUtf8(out, 0x10000 + ((static_cast<uint32_t>(u) - 0xD800) << 10) +
                          (static_cast<uint32_t>(lo) - 0xDC00));
      i += 14;
      continue;
    }
    AppendUtf8(out, static_cast<uint32_t>(u));
    i += 7;
  }
  return out;
}

std::string ElementStream::Where(uint64_t abs) {
  uint64_t line = line_;
  uint64_t start = line_start_;
  const uint64_t end = std::min<uint64_t>(abs, base_ + buf_.size());
  for (uint64_t i = base_; i < end; ++i) {
    if (buf_[static_cast<size_t>(i - base_)] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  return entry_->where() + ":" + std::to_string(line) + ":" + std::to_string(abs - start + 1);
}

void ElementStream::Compact() {
  for (size_t i = 0; i < pos_; ++i) {
    if (buf_[i] == '\n') {
      ++line_;
      line_start_ = base_ + i + 1;
    }
  }
  buf_.erase(0, pos_);
  base_ += pos_;
  token_start_ -= std::min(token_start_, pos_);
  pos_ = 0;
}

Result<bool> ElementStream::More() {
  if (eof_) return false;
  const size_t keep_from = in_element_ ? element_start_ : token_start_;
  if (buf_.size() - keep_from > max_element_bytes_) {
    return Fail(ErrorAt(base_ + keep_from, std::string(in_element_ ? "element" : "markup") +
                                               " is longer than " +
                                               std::to_string(max_element_bytes_) + " bytes"));
  }
  const size_t old = buf_.size();
  ASSIGN_OR_RETURN(size_t n, entry_->Read(buf_, kZipReadChunk));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  if (const void* nul = std::memchr(buf_.data() + old, '\0', n)) {
    return Fail(ErrorAt(base_ + static_cast<uint64_t>(static_cast<const char*>(nul) - buf_.data()),
                        "NUL byte: not XML text"));
  }
  if (base_ == 0 && old < 2 && buf_.size() >= 2 &&
      (buf_.starts_with("\xFF\xFE") || buf_.starts_with("\xFE\xFF"))) {
    return Fail(ErrorAt(0, "UTF-16 XML is not supported"));
  }
  return true;
}

Result<bool> ElementStream::Ensure(size_t at, size_t n) {
  while (buf_.size() < at + n) {
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) return false;
  }
  return true;
}

Result<size_t> ElementStream::Find(size_t from, std::string_view needle, std::string_view what) {
  size_t scan = from;
  for (;;) {
    const size_t at = buf_.find(needle, scan);
    if (at != std::string::npos) return at;
    scan = std::max(from, buf_.size() >= needle.size() ? buf_.size() - needle.size() + 1 : 0);
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) {
      return Fail(ErrorAt(base_ + token_start_,
                          std::string(what) + " is not closed before the end of the part"));
    }
  }
}

Result<size_t> ElementStream::FindTagEnd(size_t from) {
  char quote = 0;
  size_t i = from;
  for (;;) {
    for (; i < buf_.size(); ++i) {
      const char c = buf_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        return i;
      } else if (c == '<') {
        return Fail(ErrorAt(base_ + i, "malformed XML: '<' inside a tag"));
      }
    }
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) {
      return Fail(ErrorAt(base_ + token_start_, "tag is not closed before the end of the part"));
    }
  }
}

Result<bool> ElementStream::Emit(size_t end, std::string_view* element) {
  in_element_ = false;
  element_abs_ = base_ + element_start_;
  if (end - element_start_ > max_element_bytes_) {
    return Fail(ErrorAt(element_abs_,
                        "element is longer than " + std::to_string(max_element_bytes_) + " bytes"));
  }
  *element = std::string_view(buf_).substr(element_start_, end - element_start_);
  if (HasNulCharRef(*element)) {
    return Fail(ErrorAt(element_abs_, "malformed XML: a character reference to NUL"));
  }
  return true;
}

Result<bool> ElementStream::FindMarkup(size_t* lt) {
  // Inside the root, text is content (an element's text is the caller's
  // parser's to check); outside it, only white space may appear.
  for (;;) {
    *lt = buf_.find('<', pos_);
    const size_t text_end = *lt == std::string::npos ? buf_.size() : *lt;
    if (stack_.empty()) {
      for (size_t i = pos_; i < text_end; ++i) {
        if (!IsXmlSpace(buf_[i])) {
          return Fail(ErrorAt(base_ + i, "malformed XML: text outside the root element"));
        }
      }
    }
    if (*lt != std::string::npos) return true;
    pos_ = buf_.size();
    if (!in_element_) {
      Compact();
      token_start_ = 0;
    }
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) break;
  }
  if (!stack_.empty()) {
    return Fail(ErrorAt(base_ + buf_.size(), "malformed XML: the part ends inside <" +
                                                 ForMessage(stack_.back(), 40) + ">"));
  }
  if (!root_seen_) return Fail(ErrorAt(0, "malformed XML: no root element"));
  return false;
}

Status ElementStream::SkipDeclaration(size_t lt) {
  ASSIGN_OR_RETURN(bool have_nine, Ensure(lt, 9));
  const std::string_view head = std::string_view(buf_).substr(lt, have_nine ? 9 : 4);
  if (head.starts_with("<!--")) {
    ASSIGN_OR_RETURN(size_t end, Find(lt + 4, "-->", "comment"));
    pos_ = end + 3;
    return Ok();
  }
  if (head == "<![CDATA[" && !stack_.empty()) {
    ASSIGN_OR_RETURN(size_t end, Find(lt + 9, "]]>", "CDATA section"));
    pos_ = end + 3;
    return Ok();
  }
  return Fail(ErrorAt(base_ + lt,
                      "malformed XML: a DOCTYPE or other declaration (Office XML "
                      "has none)"));
}

Result<bool> ElementStream::EndTag(size_t lt) {
  ASSIGN_OR_RETURN(size_t gt, Find(lt + 2, ">", "end tag"));
  const std::string_view name = TrimAscii(std::string_view(buf_).substr(lt + 2, gt - lt - 2));
  if (stack_.empty() || name != stack_.back()) {
    return Fail(ErrorAt(
        base_ + lt,
        "malformed XML: end tag </" + ForMessage(name, 40) + "> does not match " +
            (stack_.empty() ? "any start tag" : "<" + ForMessage(stack_.back(), 40) + ">")));
  }
  stack_.pop_back();
  pos_ = gt + 1;
  if (container_open_ && !container_closed_ && stack_.size() == container_depth_) {
    container_closed_ = true;
  }
  return in_element_ && stack_.size() == element_depth_;
}

Result<bool> ElementStream::StartTag(size_t lt) {
  ASSIGN_OR_RETURN(size_t gt, FindTagEnd(lt + 1));
  const bool empty = buf_[gt - 1] == '/' && gt - 1 > lt;
  size_t name_end = lt + 1;
  while (name_end < gt && !IsXmlSpace(buf_[name_end]) && buf_[name_end] != '/') ++name_end;
  const std::string_view name = std::string_view(buf_).substr(lt + 1, name_end - lt - 1);
  if (name.empty()) return Fail(ErrorAt(base_ + lt, "malformed XML: a tag without a name"));
  if (stack_.empty()) {
    if (root_seen_) return Fail(ErrorAt(base_ + lt, "malformed XML: a second root element"));
    root_seen_ = true;
    if (LocalName(name) != root_) {
      return Fail(ErrorAt(
          base_ + lt, "the root element is <" + ForMessage(name, 40) + ">, not <" + root_ + ">"));
    }
  }
  const size_t depth = stack_.size();
  bool starts_element = false;
  if (!in_element_ && container_open_ && !container_closed_ && depth == container_depth_ + 1) {
    starts_element = true;
    in_element_ = true;
    element_start_ = lt;
    element_depth_ = depth;
  }
  if (!container_open_ && depth == container_depth_ && LocalName(name) == container_) {
    container_open_ = true;
    container_closed_ = empty;
  }
  pos_ = gt + 1;
  if (empty) return starts_element;
  if (stack_.size() >= kMaxXmlDepth) {
    return Fail(ErrorAt(base_ + lt, "malformed XML: elements nested more than " +
                                        std::to_string(kMaxXmlDepth) + " deep"));
  }
  stack_.emplace_back(name);
  return false;
}

Result<bool> ElementStream::ReadMarkup(size_t lt) {
  ASSIGN_OR_RETURN(bool have_two, Ensure(lt, 2));
  if (!have_two) return Fail(ErrorAt(base_ + lt, "malformed XML: the part ends inside a tag"));
  switch (buf_[lt + 1]) {
    case '?': {
      ASSIGN_OR_RETURN(size_t end, Find(lt + 2, "?>", "processing instruction"));
      pos_ = end + 2;
      return false;
    }
    case '!':
      RETURN_IF_ERROR(SkipDeclaration(lt));
      return false;
    case '/':
      return EndTag(lt);
    default:
      return StartTag(lt);
  }
}

Result<bool> ElementStream::Next(std::string_view* element) {
  if (done_) return false;
  if (!started_) {
    started_ = true;
    ASSIGN_OR_RETURN(bool have_bom, Ensure(0, 3));
    if (have_bom && buf_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte-order mark
  }
  for (;;) {
    if (!in_element_ && pos_ > kZipReadChunk) Compact();
    token_start_ = pos_;
    size_t lt = 0;
    ASSIGN_OR_RETURN(bool found, FindMarkup(&lt));
    if (!found) {
      done_ = true;
      return false;
    }
    token_start_ = lt;
    ASSIGN_OR_RETURN(bool completes_element, ReadMarkup(lt));
    if (completes_element) return Emit(pos_, element);
  }
}

}  // namespace custos::ingest::internal
