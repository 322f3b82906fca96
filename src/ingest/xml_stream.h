// XML of an .xlsx part read a piece at a time (internal to src/ingest):
// ElementStream cuts the children of one container element out of a
// streamed part, one element at a time, so that a sheet of a million rows
// never has to be held whole; and the checks and decodings every part's XML
// needs.
#ifndef CUSTOS_INGEST_XML_STREAM_H_
#define CUSTOS_INGEST_XML_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "ingest/zip_archive.h"

namespace custos::ingest::internal {

// The local part of a qualified XML name: "x:row" -> "row".
std::string_view LocalName(std::string_view qname);

// Whether `xml` has a character reference to U+0000 ("&#0;", "&#x00;"):
// pugixml would decode it into its NUL-terminated strings and silently cut
// the value there.
bool HasNulCharRef(std::string_view xml);

// "LINE:COL" (1-based) of byte `offset` of `text`.
std::string LineColOf(std::string_view text, size_t offset);

// Decodes OOXML's "_xHHHH_" escapes (ST_Xstring): Excel writes characters
// that XML cannot carry, such as a carriage return, as _x000D_, and a
// literal "_x" as _x005F_x. A lone surrogate or NUL stays as written.
std::string DecodeXEscapes(std::string s);

// The child elements of one container element of a part, one at a time,
// each as the exact text of the element ("<row r="5">...</row>"), read with
// bounded memory: the part is decompressed kZipReadChunk bytes at a time
// and at most one element (max_element_bytes) is held. The container is the
// root element (`container` empty; for <sst>) or a child of it
// (<sheetData>). After the last child the rest of the part is still read
// and checked, so that a truncated or corrupt part (bad CRC) fails instead
// of ending early.
//
// The cutting tracks the markup that can hide a '<' or '>' (comments,
// CDATA, processing instructions, quoted attribute values) and checks that
// every end tag matches its start tag, so an element returned is exactly
// one element; what is inside it is the caller's XML parser's to check.
class ElementStream {
 public:
  ElementStream(std::unique_ptr<ZipEntryReader> entry, std::string root, std::string container,
                size_t max_element_bytes)
      : entry_(std::move(entry)),
        root_(std::move(root)),
        container_depth_(container.empty() ? 0 : 1),
        container_(container.empty() ? root_ : std::move(container)),
        max_element_bytes_(max_element_bytes) {}

  // Sets *element to the next child of the container, valid until the next
  // call; returns false at the end of the part. Errors: kInvalidArgument
  // "FILE: PART:LINE:COL: what" (malformed or truncated XML, a NUL byte, an
  // element longer than max_element_bytes).
  Result<bool> Next(std::string_view* element);

  // "FILE: PART:LINE:COL" for byte `offset` of the element last returned.
  std::string WhereInElement(size_t offset) { return Where(element_abs_ + offset); }
  // Whether the container element was found.
  bool saw_container() const { return container_open_; }
  uint64_t bytes_consumed() const { return entry_->consumed(); }
  uint64_t bytes_total() const { return entry_->size(); }

 private:
  std::string Where(uint64_t abs);
  Error ErrorAt(uint64_t abs, const std::string& what) {
    return InvalidArgument(Where(abs) + ": " + what);
  }
  // Reads another chunk; false at the end of the part.
  Result<bool> More();
  // Drops the bytes before pos_, counting their lines.
  void Compact();
  // Position of `needle` at or after `from`, reading as needed.
  Result<size_t> Find(size_t from, std::string_view needle, std::string_view what);
  // Position of the '>' that ends the tag starting before `from`.
  Result<size_t> FindTagEnd(size_t from);
  // Ensures n bytes at `at` if the part has them.
  Result<bool> Ensure(size_t at, size_t n);
  // Moves past text to the next '<' and sets *lt to it; false at the end
  // of the part, once it has been checked to end well-formed.
  Result<bool> FindMarkup(size_t* lt);
  // Reads the markup starting with the '<' at `lt` and moves pos_ past it.
  // Returns whether it completed an element to return.
  Result<bool> ReadMarkup(size_t lt);
  // Skips a comment or a CDATA section starting at `lt`; other "<!"
  // declarations are errors.
  Status SkipDeclaration(size_t lt);
  // An end tag at `lt`; returns whether it ends the element being cut.
  Result<bool> EndTag(size_t lt);
  // A start or empty-element tag at `lt`; returns whether it is a whole
  // element to return (an empty child of the container).
  Result<bool> StartTag(size_t lt);
  // Returns buf_[element_start_, end) as the next element, after checks.
  Result<bool> Emit(size_t end, std::string_view* element);

  std::unique_ptr<ZipEntryReader> entry_;
  std::string root_;
  size_t container_depth_;  // 0: the root is the container; 1: a child of it
  std::string container_;
  size_t max_element_bytes_;

  std::string buf_;
  size_t pos_ = 0;
  uint64_t base_ = 0;        // part offset of buf_[0]
  uint64_t line_ = 1;        // line of buf_[0]
  uint64_t line_start_ = 0;  // part offset where that line starts
  bool eof_ = false;
  bool started_ = false;
  bool done_ = false;
  size_t token_start_ = 0;

  std::vector<std::string> stack_;  // open elements, qualified names
  bool root_seen_ = false;
  bool container_open_ = false;
  bool container_closed_ = false;
  bool in_element_ = false;
  size_t element_start_ = 0;  // in buf_
  size_t element_depth_ = 0;  // stack_.size() before its start tag
  uint64_t element_abs_ = 0;  // part offset of the element last returned
};

}  // namespace custos::ingest::internal

#endif  // CUSTOS_INGEST_XML_STREAM_H_
