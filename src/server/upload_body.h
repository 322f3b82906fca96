// Where an upload's body goes as it arrives (a Boost.Beast body type for
// the request parser): never one string in memory, never a file on disk in
// clear. A workbook (ZIP or OLE2 by its first bytes, which its reader opens
// at random) goes into an anonymous memory file; anything else (CSV, TSV,
// JSON Lines: read in order, and the large ones) is sealed on disk in the
// server's spool (base/sealed_file.h).
#ifndef CUSTOS_SERVER_UPLOAD_BODY_H_
#define CUSTOS_SERVER_UPLOAD_BODY_H_

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/sealed_file.h"

namespace custos::server {

class UploadSink {
 public:
  // `spool`: the directory of the sealed file.
  explicit UploadSink(std::string spool) : spool_(std::move(spool)) {}
  ~UploadSink();
  UploadSink(const UploadSink&) = delete;
  UploadSink& operator=(const UploadSink&) = delete;

  Status Put(std::string_view data);
  Status Finish();

  // Why the last Put or Finish failed, if one did.
  const std::optional<Error>& error() const { return error_; }
  // After Finish: the memory file (owned here; -1 if none) or the sealed file.
  int memfd() const { return memfd_; }
  std::shared_ptr<const SealedFile> sealed() const { return sealed_; }

 private:
  Status PutUnchecked(std::string_view data);
  Status Decide();  // on the first bytes: a memory file or sealed
  Status Deliver(std::string_view data);

  std::string spool_;
  std::string head_;  // the first bytes, until the kind is known
  bool decided_ = false;
  int memfd_ = -1;
  std::shared_ptr<SealedFile> sealed_;
  std::optional<Error> error_;
};

struct UploadBody {
  struct value_type {
    std::shared_ptr<UploadSink> sink;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      std::size_t n = 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        if (!body_.sink->Put(std::string_view(static_cast<const char*>(b.data()), b.size()))) {
          ec = boost::beast::errc::make_error_code(boost::beast::errc::io_error);  // see error()
          return n;
        }
        n += b.size();
      }
      ec = {};
      return n;
    }

    void finish(boost::beast::error_code& ec) {
      ec = {};
      if (!body_.sink->Finish()) {
        ec = boost::beast::errc::make_error_code(boost::beast::errc::io_error);
      }
    }

   private:
    value_type& body_;
  };
};

}  // namespace custos::server

#endif  // CUSTOS_SERVER_UPLOAD_BODY_H_
