#include "workflow/sample.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "detect/region_codes.h"
#include "detect/validators.h"

namespace custos::workflow {

namespace {

// ---- Deterministic pseudo-randomness (reproducibility only, not secrets) ----

// SplitMix64's output function: a bijective 64-bit mixer.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// SplitMix64. Own code rather than <random> distributions, whose outputs
// differ between standard libraries: the same seed must give the same file
// everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(Mix64(seed)) {}

  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return Mix64(state_);
  }
  // Uniform in [0, n). REQUIRES: n > 0. The modulo bias is below 2^-24 for
  // every n used here (n < 2^40), which does not matter for sample data.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int Between(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool Percent(int p) { return Below(100) < static_cast<uint64_t>(p); }
  bool PerMille(int p) { return Below(1000) < static_cast<uint64_t>(p); }

 private:
  uint64_t state_;
};

// A keyed bijection of [0, n): a 4-round Feistel network on the smallest even
// number of bits covering n, with cycle walking back into range (fewer than
// four steps on average). Used to turn a counter into values that look random
// but never repeat, without remembering the ones already handed out.
class Permutation {
 public:
  Permutation(uint64_t n, uint64_t key) : n_(n), key_(key) {
    int bits = 1;
    while (bits < 64 && (uint64_t{1} << bits) < n) ++bits;
    half_bits_ = (bits + 1) / 2;
    mask_ = (uint64_t{1} << half_bits_) - 1;
  }

  uint64_t size() const { return n_; }

  // REQUIRES: x < size().
  uint64_t Apply(uint64_t x) const {
    do {
      x = Feistel(x);
    } while (x >= n_);
    return x;
  }

 private:
  uint64_t Feistel(uint64_t x) const {
    uint64_t left = x >> half_bits_;
    uint64_t right = x & mask_;
    for (uint64_t round = 0; round < 4; ++round) {
      uint64_t f = Mix64(right ^ (key_ + round * 0x9E3779B97F4A7C15ULL)) & mask_;
      uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    return (left << half_bits_) | right;
  }

  uint64_t n_;
  uint64_t key_;
  int half_bits_;
  uint64_t mask_;
};

// ---- Calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ----

int64_t DaysFromCivil(const Date& date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t m = date.month;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return {static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

// The same day `years` earlier; 29 February becomes the 28th in a common year.
Date YearsBefore(Date d, int years) {
  d.year -= years;
  if (!IsValidDate(d.year, d.month, d.day)) d.day = 28;
  return d;
}

// ---- Formatting ----

void AppendUint(std::string& out, uint64_t v, int min_width = 0) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // cannot fail: 20 digits fit
  const int len = static_cast<int>(end - buf);
  if (len < min_width) out.append(static_cast<size_t>(min_width - len), '0');
  out.append(buf, end);
}

void AppendDate(std::string& out, const Date& d) {
  AppendUint(out, static_cast<uint64_t>(d.year), 4);
  out.push_back('-');
  AppendUint(out, static_cast<uint64_t>(d.month), 2);
  out.push_back('-');
  AppendUint(out, static_cast<uint64_t>(d.day), 2);
}

// One CSV field (RFC 4180): quoted only when it must be.
void AppendField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// ---- Reference data ----

constexpr std::array<std::string_view, 15> kColumns = {
    "客户编号", "姓名",     "性别",     "身份证号", "手机号",   "固定电话", "电子邮箱", "银行卡号",
    "开户行",   "联系地址", "开户日期", "账户余额", "客户经理", "风险等级", "备注",
};

struct Syllable {
  std::string_view han;
  std::string_view pinyin;
};

// The most common surnames first: the first kCommonSurnames get extra weight.
constexpr Syllable kSurnames[] = {
    {"王", "wang"},  {"李", "li"},    {"张", "zhang"}, {"刘", "liu"},   {"陈", "chen"},
    {"杨", "yang"},  {"黄", "huang"}, {"赵", "zhao"},  {"吴", "wu"},    {"周", "zhou"},
    {"徐", "xu"},    {"孙", "sun"},   {"马", "ma"},    {"朱", "zhu"},   {"胡", "hu"},
    {"郭", "guo"},   {"何", "he"},    {"林", "lin"},   {"高", "gao"},   {"罗", "luo"},
    {"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"},   {"宋", "song"},  {"唐", "tang"},
    {"许", "xu"},    {"韩", "han"},   {"冯", "feng"},  {"邓", "deng"},  {"曹", "cao"},
    {"彭", "peng"},  {"曾", "zeng"},  {"肖", "xiao"},  {"田", "tian"},  {"董", "dong"},
    {"潘", "pan"},   {"袁", "yuan"},  {"蔡", "cai"},   {"蒋", "jiang"}, {"余", "yu"},
    {"于", "yu"},    {"杜", "du"},    {"叶", "ye"},    {"程", "cheng"}, {"魏", "wei"},
    {"苏", "su"},    {"吕", "lv"},    {"丁", "ding"},  {"任", "ren"},   {"沈", "shen"},
    {"姚", "yao"},   {"卢", "lu"},    {"姜", "jiang"}, {"崔", "cui"},   {"钟", "zhong"},
    {"谭", "tan"},   {"陆", "lu"},    {"汪", "wang"},  {"范", "fan"},   {"金", "jin"},
    {"石", "shi"},   {"廖", "liao"},  {"贾", "jia"},   {"夏", "xia"},   {"韦", "wei"},
    {"方", "fang"},  {"白", "bai"},   {"邹", "zou"},   {"孟", "meng"},  {"熊", "xiong"},
    {"秦", "qin"},   {"邱", "qiu"},   {"江", "jiang"}, {"尹", "yin"},   {"薛", "xue"},
    {"段", "duan"},  {"雷", "lei"},   {"侯", "hou"},   {"龙", "long"},  {"史", "shi"},
    {"陶", "tao"},   {"黎", "li"},    {"贺", "he"},    {"顾", "gu"},    {"毛", "mao"},
    {"郝", "hao"},   {"龚", "gong"},  {"邵", "shao"},  {"万", "wan"},   {"钱", "qian"},
    {"严", "yan"},   {"武", "wu"},    {"戴", "dai"},   {"孔", "kong"},  {"汤", "tang"},
};
constexpr size_t kCommonSurnames = 10;

constexpr Syllable kCompoundSurnames[] = {
    {"欧阳", "ouyang"},   {"司马", "sima"},   {"诸葛", "zhuge"},   {"上官", "shangguan"},
    {"东方", "dongfang"}, {"慕容", "murong"}, {"皇甫", "huangfu"}, {"令狐", "linghu"},
};

constexpr Syllable kMaleGiven[] = {
    {"伟", "wei"},  {"强", "qiang"}, {"磊", "lei"},  {"军", "jun"},  {"勇", "yong"},
    {"杰", "jie"},  {"涛", "tao"},   {"斌", "bin"},  {"超", "chao"}, {"明", "ming"},
    {"刚", "gang"}, {"平", "ping"},  {"辉", "hui"},  {"鹏", "peng"}, {"华", "hua"},
    {"飞", "fei"},  {"鑫", "xin"},   {"波", "bo"},   {"宇", "yu"},   {"浩", "hao"},
    {"凯", "kai"},  {"健", "jian"},  {"俊", "jun"},  {"帆", "fan"},  {"帅", "shuai"},
    {"旭", "xu"},   {"宁", "ning"},  {"龙", "long"}, {"林", "lin"},  {"阳", "yang"},
    {"建", "jian"}, {"国", "guo"},   {"峰", "feng"}, {"文", "wen"},  {"博", "bo"},
    {"志", "zhi"},  {"成", "cheng"}, {"东", "dong"}, {"海", "hai"},  {"亮", "liang"},
    {"晨", "chen"}, {"睿", "rui"},   {"轩", "xuan"}, {"泽", "ze"},   {"子", "zi"},
    {"天", "tian"}, {"振", "zhen"},  {"家", "jia"},  {"晓", "xiao"}, {"永", "yong"},
};

constexpr Syllable kFemaleGiven[] = {
    {"芳", "fang"}, {"娜", "na"},   {"敏", "min"},  {"静", "jing"}, {"丽", "li"},   {"艳", "yan"},
    {"娟", "juan"}, {"霞", "xia"},  {"燕", "yan"},  {"玲", "ling"}, {"婷", "ting"}, {"雪", "xue"},
    {"慧", "hui"},  {"琳", "lin"},  {"颖", "ying"}, {"倩", "qian"}, {"洁", "jie"},  {"莉", "li"},
    {"萍", "ping"}, {"红", "hong"}, {"玉", "yu"},   {"兰", "lan"},  {"梅", "mei"},  {"琴", "qin"},
    {"云", "yun"},  {"莹", "ying"}, {"欣", "xin"},  {"怡", "yi"},   {"悦", "yue"},  {"彤", "tong"},
    {"佳", "jia"},  {"雨", "yu"},   {"思", "si"},   {"梦", "meng"}, {"晓", "xiao"}, {"诗", "shi"},
    {"涵", "han"},  {"萱", "xuan"}, {"秀", "xiu"},  {"凤", "feng"}, {"春", "chun"}, {"晶", "jing"},
    {"丹", "dan"},  {"璐", "lu"},   {"薇", "wei"},  {"月", "yue"},  {"宁", "ning"}, {"欢", "huan"},
    {"珊", "shan"}, {"妍", "yan"},
};

// Mainland mobile number segments in public use.
constexpr std::string_view kMobilePrefixes[] = {
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147",
    "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "172",
    "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185",
    "186", "187", "188", "189", "191", "193", "195", "198", "199",
};

constexpr std::string_view kEmailDomains[] = {
    "qq.com",      "qq.com",   "qq.com",   "163.com",     "163.com",
    "126.com",     "sina.com", "sohu.com", "gmail.com",   "hotmail.com",
    "foxmail.com", "139.com",  "yeah.net", "outlook.com", "aliyun.com",
};

// Debit-card BINs as these banks print them on UnionPay cards. The pairing is
// illustrative: the sample only needs cards that look right and pass Luhn.
struct Bank {
  std::string_view name;
  std::string_view bin;
  int length;  // 16 or 19 digits
};
constexpr Bank kBanks[] = {
    {"中国工商银行", "622202", 19}, {"中国农业银行", "622848", 19},     {"中国银行", "621661", 19},
    {"中国建设银行", "621700", 19}, {"交通银行", "622262", 19},         {"招商银行", "622588", 16},
    {"招商银行", "622588", 16},     {"中国邮政储蓄银行", "621799", 19},
};

// Telephone area codes of the cities in detect::Counties(), by the first four
// digits of the division code.
struct AreaCode {
  std::string_view city_prefix;
  std::string_view area;
};
constexpr AreaCode kAreaCodes[] = {
    {"1101", "010"},  {"1201", "022"},  {"1301", "0311"}, {"1302", "0315"}, {"1306", "0312"},
    {"1401", "0351"}, {"1501", "0471"}, {"2101", "024"},  {"2102", "0411"}, {"2201", "0431"},
    {"2301", "0451"}, {"3101", "021"},  {"3201", "025"},  {"3202", "0510"}, {"3205", "0512"},
    {"3301", "0571"}, {"3302", "0574"}, {"3303", "0577"}, {"3401", "0551"}, {"3501", "0591"},
    {"3502", "0592"}, {"3601", "0791"}, {"3701", "0531"}, {"3702", "0532"}, {"4101", "0371"},
    {"4201", "027"},  {"4301", "0731"}, {"4401", "020"},  {"4403", "0755"}, {"4406", "0757"},
    {"4501", "0771"}, {"4601", "0898"}, {"5001", "023"},  {"5101", "028"},  {"5201", "0851"},
    {"5301", "0871"}, {"5401", "0891"}, {"6101", "029"},  {"6201", "0931"}, {"6301", "0971"},
    {"6401", "0951"}, {"6501", "0991"},
};

constexpr std::string_view kStreets[] = {
    "人民路", "解放路", "中山路",   "建设路",   "和平路", "新华路", "长江路", "黄河路",
    "文化路", "胜利路", "光明路",   "幸福路",   "青年路", "花园路", "东风路", "建国路",
    "朝阳路", "工业路", "学府路",   "滨江路",   "湖滨路", "南京路", "北京路", "延安路",
    "友谊路", "迎宾路", "世纪大道", "科技园路", "金融街", "府前街",
};

constexpr std::string_view kManagers[] = {
    "王建国", "李丽华", "陈志强", "刘晓燕", "张伟", "赵敏", "黄海涛", "周婷",
};

// Plain notes; a few hold what forces CSV quoting (ASCII comma, quote, LF).
constexpr std::string_view kPlainNotes[] = {
    "老客户，偏好理财产品",
    "已签署风险揭示书",
    "代发工资客户",
    "定期存款到期提醒",
    "VIP客户",
    "已开通网上银行",
    "长期未联系",
    "客户要求纸质对账单",
    "已迁往外地，账户保留",
    "推荐办理信用卡",
    "高净值客户，季度回访",
    "账户已冻结，待核实",
    "已完成年度风险测评",
    "客户称\"已搬家\",新地址待确认",
    "偏好电话联系, 不接受短信",
    "第一次电话未接通\n第二次已确认",
    "基金定投客户",
    "子女代为办理",
    "柜面办理，需本人到场",
    "养老金代发",
};

// Age bands (whole years on `today`, [min_age, max_age)) and their share of
// people in per mille. The first band is the PIPL Art. 31 minors.
struct AgeBand {
  int min_age;
  int max_age;
  int per_mille;
};
constexpr AgeBand kAgeBands[] = {
    {0, 14, 30}, {14, 18, 20}, {18, 30, 200}, {30, 60, 520}, {60, 90, 230},
};

constexpr int kDuplicatePerMille = 20;  // people who get a second account
constexpr int kMaxDuplicateDelay = 5;   // rows between a person's two accounts
constexpr size_t kMaxPending = 8;       // bounds the memory for duplicates
constexpr size_t kFlushBytes = 1 << 16;
constexpr uint64_t kSequencesPerDay = 999;  // ID sequence numbers 001..999

// ---- The generator ----

// A county of detect::Counties() with what the generator derives from it.
struct Place {
  const detect::County* county;
  std::string_view area_code;
  std::string city_short;      // "深圳", "北京": for bank branch names
  std::string address_prefix;  // "广东省深圳市南山区"
};

struct Person {
  std::string name;
  bool male = false;
  std::string id;
  std::string mobile;
  std::string email;
  std::string landline;
  std::string address;
  const Place* home = nullptr;
  Date birth;
};

struct PendingDuplicate {
  Person person;
  uint64_t due_row;
};

std::string_view WithoutSuffix(std::string_view s, std::string_view suffix) {
  if (s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
    s.remove_suffix(suffix.size());
  }
  return s;
}

// Makes the rows of one file. Not copyable: places_ is pointed into.
class Generator {
 public:
  explicit Generator(const SampleOptions& options)
      : options_(options),
        rng_(options.seed),
        today_days_(DaysFromCivil(options.today)),
        mobiles_(std::size(kMobilePrefixes) * 100'000'000ULL, Mix64(options.seed ^ 0x6D6F62ULL)),
        emails_(EmailSpace(options.rows), Mix64(options.seed ^ 0x656D61ULL)),
        cards16_(1'000'000'000ULL, Mix64(options.seed ^ 0x633136ULL)),
        cards19_(1'000'000'000'000ULL, Mix64(options.seed ^ 0x633139ULL)) {}
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Derives the per-county data and the age bands. Fails only on a bug in
  // the reference tables (a county without an area code).
  Status Init() {
    const std::span<const detect::County> counties = detect::Counties();
    places_.reserve(counties.size());
    for (const detect::County& c : counties) {
      Place p;
      p.county = &c;
      for (const AreaCode& a : kAreaCodes) {
        if (c.code.substr(0, 4) == a.city_prefix) p.area_code = a.area;
      }
      if (p.area_code.empty()) {
        return Fail(Internal("sample: no telephone area code for county " + std::string(c.code)));
      }
      p.city_short = std::string(WithoutSuffix(c.city.empty() ? c.province : c.city, "市"));
      p.address_prefix = std::string(c.province) + std::string(c.city) + std::string(c.district);
      places_.push_back(std::move(p));
    }
    uint64_t band_index = 0;
    for (const AgeBand& b : kAgeBands) {
      // Age in [min, max) on today  <=>  birth in (today - max years, today - min years].
      const int64_t first = DaysFromCivil(YearsBefore(options_.today, b.max_age)) + 1;
      const int64_t last = DaysFromCivil(YearsBefore(options_.today, b.min_age));
      const auto days = static_cast<uint64_t>(last - first + 1);
      const uint64_t space = places_.size() * days * kSequencesPerDay;
      bands_.push_back(
          Band{first, days, Permutation(space, Mix64(options_.seed + ++band_index)), 0});
    }
    customer_code_ = 10'000 + rng_.Below(90'000);
    return Ok();
  }

  Status Write(std::ostream& out) {
    std::string buf;
    buf.reserve(kFlushBytes + 4096);
    buf.append("\xEF\xBB\xBF");
    for (size_t i = 0; i < kColumns.size(); ++i) {
      if (i > 0) buf.push_back(',');
      AppendField(buf, kColumns[i]);
    }
    buf.append("\r\n");
    for (uint64_t row = 0; row < options_.rows; ++row) {
      AppendRow(row, buf);
      if (buf.size() >= kFlushBytes) {
        RETURN_IF_ERROR(Flush(buf, out));
      }
    }
    RETURN_IF_ERROR(Flush(buf, out));
    out.flush();
    if (!out) return Fail(Unavailable("cannot write the sample output"));
    return Ok();
  }

 private:
  struct Band {
    int64_t first_day;  // earliest birth day (days since 1970-01-01)
    uint64_t days;      // number of possible birth days
    Permutation ids;    // over counties x days x sequences
    uint64_t used = 0;
  };

  // E-mail numbers come from [0, 10^k) with 10^k >= 2 * rows: unique per
  // person, and no longer than the file needs.
  static uint64_t EmailSpace(uint64_t rows) {
    uint64_t n = 10'000;
    while (n < 2 * rows) n *= 10;
    return n;
  }

  static Status Flush(std::string& buf, std::ostream& out) {
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.clear();
    if (!out) return Fail(Unavailable("cannot write the sample output"));
    return Ok();
  }

  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[rng_.Below(N)];
  }

  void AppendRow(uint64_t row, std::string& buf) {
    // A scheduled second account comes first, so it stays within a few rows.
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].due_row <= row) {
        Person person = std::move(pending_[i].person);
        pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
        AppendAccount(row, person, buf);
        return;
      }
    }
    Person person = NewPerson();
    if (pending_.size() < kMaxPending && rng_.PerMille(kDuplicatePerMille)) {
      pending_.push_back(
          {person, row + static_cast<uint64_t>(rng_.Between(1, kMaxDuplicateDelay))});
    }
    AppendAccount(row, person, buf);
  }

  // A new person: each part drawn in turn, in this order (the output for a
  // seed depends on it).
  Person NewPerson() {
    Person p;
    size_t band = 0;
    const Place& origin = DrawId(p, &band);
    std::string surname_pinyin, given_pinyin;
    DrawName(p, surname_pinyin, given_pinyin);
    DrawMobile(p);
    DrawEmail(p, /*minor=*/band == 0, surname_pinyin, given_pinyin);
    DrawHome(p, origin);
    DrawLandline(p);
    ++person_count_;
    return p;
  }

  const Place& DrawId(Person& p, size_t* band_index) {
    // Resident ID: a never-repeating point of (county, birth day, sequence)
    // within an age band, so distinct people never share a number. (The
    // smallest band holds ~2.5e8 numbers; kMaxSampleRows never wraps it.)
    int pick = rng_.Between(0, 999);
    size_t bi = 0;
    while (bi + 1 < bands_.size() && pick >= kAgeBands[bi].per_mille) {
      pick -= kAgeBands[bi].per_mille;
      ++bi;
    }
    Band& band = bands_[bi];
    uint64_t x = band.ids.Apply(band.used++ % band.ids.size());
    const uint64_t sequence = x % kSequencesPerDay + 1;
    x /= kSequencesPerDay;
    p.birth = CivilFromDays(band.first_day + static_cast<int64_t>(x % band.days));
    const Place& origin = places_[x / band.days];
    *band_index = bi;
    p.male = sequence % 2 == 1;
    p.id.reserve(18);
    p.id.append(origin.county->code);
    AppendUint(p.id, static_cast<uint64_t>(p.birth.year), 4);
    AppendUint(p.id, static_cast<uint64_t>(p.birth.month), 2);
    AppendUint(p.id, static_cast<uint64_t>(p.birth.day), 2);
    AppendUint(p.id, sequence, 3);
    p.id.push_back(detect::ResidentIdCheckChar(p.id));
    return origin;
  }

  void DrawName(Person& p, std::string& surname_pinyin, std::string& given_pinyin) {
    // Name, and its pinyin for the e-mail address.
    const Syllable& surname = rng_.PerMille(15)  ? Pick(kCompoundSurnames)
                              : rng_.Percent(40) ? kSurnames[rng_.Below(kCommonSurnames)]
                                                 : Pick(kSurnames);
    p.name.append(surname.han);
    const int given_len = rng_.Percent(30) ? 1 : 2;
    for (int i = 0; i < given_len; ++i) {
      const Syllable& s = p.male ? Pick(kMaleGiven) : Pick(kFemaleGiven);
      p.name.append(s.han);
      given_pinyin.append(s.pinyin);
    }
    surname_pinyin = surname.pinyin;
  }

  void DrawMobile(Person& p) {
    // Mobile: a never-repeating number in the public segments.
    const uint64_t m = mobiles_.Apply(person_count_ % mobiles_.size());
    const std::string_view prefix = kMobilePrefixes[m / 100'000'000ULL];
    std::string digits(prefix);
    AppendUint(digits, m % 100'000'000ULL, 8);
    const int style = rng_.Between(0, 99);
    if (style < 95) {
      p.mobile = digits;
    } else if (style < 98) {  // as typed at a counter
      p.mobile = digits.substr(0, 3) + " " + digits.substr(3, 4) + " " + digits.substr(7);
    } else {
      p.mobile = "+86 " + digits;
    }
  }

  void DrawEmail(Person& p, bool minor, const std::string& surname_pinyin,
                 const std::string& given_pinyin) {
    // E-mail: most adults, few children; unique through its number.
    if (!rng_.Percent(minor ? 80 : 20)) {
      const uint64_t n = emails_.Apply(person_count_ % emails_.size());
      const std::string_view domain = Pick(kEmailDomains);
      switch (rng_.Between(0, 3)) {
        case 0:
          AppendUint(p.email, 10'000 + n);  // a QQ number
          p.email.append("@qq.com");
          break;
        case 1:
          p.email.append(surname_pinyin).append(given_pinyin);
          AppendUint(p.email, n);
          p.email.append("@").append(domain);
          break;
        case 2:
          p.email.append(given_pinyin).append("_").append(surname_pinyin);
          AppendUint(p.email, n);
          p.email.append("@").append(domain);
          break;
        default:
          p.email.push_back(surname_pinyin[0]);
          p.email.push_back(given_pinyin[0]);
          AppendUint(p.email, n);
          p.email.append("@").append(domain);
          break;
      }
    }
  }

  void DrawHome(Person& p, const Place& origin) {
    // Home: usually where the ID was issued, sometimes elsewhere.
    p.home = rng_.Percent(60) ? &origin : &places_[rng_.Below(places_.size())];
    p.address = p.home->address_prefix;
    p.address.append(Pick(kStreets));
    AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 300)));
    p.address.append("号");
    const int unit = rng_.Between(0, 9);
    if (unit < 5) {
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 30)));
      p.address.append("栋");
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 6)));
      p.address.append("单元");
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 33)));
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 4)), 2);
      p.address.append("室");
    } else if (unit < 7) {
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 20)));
      p.address.append("号楼");
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 18)));
      AppendUint(p.address, static_cast<uint64_t>(rng_.Between(1, 6)), 2);
      p.address.append("室");
    }
  }

  void DrawLandline(Person& p) {
    // Landline: a home or office number in the home city, often missing.
    const int landline = rng_.Between(0, 99);
    if (landline < 65) {
      const std::string_view area = p.home->area_code;
      std::string local;
      AppendUint(local, static_cast<uint64_t>(rng_.Between(2, 8)));
      AppendUint(local, rng_.Below(10'000'000ULL), 7);
      if (landline < 60) {
        p.landline.append(area).append("-").append(local);
      } else {
        p.landline.append("(").append(area).append(")");
        p.landline.append(local.substr(0, 4)).append(" ").append(local.substr(4));
      }
    }
  }

  void AppendAccount(uint64_t row, const Person& p, std::string& buf) {
    // 客户编号: increasing with gaps, as accounts were opened and closed.
    customer_code_ += 1 + rng_.Below(3);
    std::string code = "KH";
    AppendUint(code, customer_code_, 8);

    // 银行卡号: BIN + never-repeating account number + Luhn check digit.
    const Bank& bank = Pick(kBanks);
    std::string card(bank.bin);
    if (bank.length == 16) {
      AppendUint(card, cards16_.Apply(row % cards16_.size()), 9);
    } else {
      AppendUint(card, cards19_.Apply(row % cards19_.size()), 12);
    }
    card.push_back(detect::LuhnCheckDigit(card));

    std::string branch(bank.name);
    branch.append(p.home->city_short).append("分行");
    if (rng_.Percent(30)) branch.append("营业部");

    // 开户日期: on or after 2000-01-01 and the birth day, not after today.
    const int64_t earliest = std::max(DaysFromCivil(p.birth), DaysFromCivil({2000, 1, 1}));
    const int64_t span = today_days_ - earliest + 1;
    const Date opened =
        CivilFromDays(earliest + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(span))));

    std::string balance;
    if (rng_.Percent(3)) {
      balance = "0.00";
    } else {
      // Number of integer digits, weighted towards the thousands.
      static constexpr int kDigitsPercent[] = {4, 8, 18, 30, 26, 11, 3};  // 1..7 digits
      int pick = rng_.Between(0, 99);
      uint64_t scale = 10;
      for (int percent : kDigitsPercent) {
        if (pick < percent) break;
        pick -= percent;
        scale *= 10;
      }
      AppendUint(balance, scale / 10 + rng_.Below(scale - scale / 10));
      balance.push_back('.');
      AppendUint(balance, rng_.Below(100), 2);
    }

    const int r = rng_.Between(0, 99);
    const std::string_view risk = r < 10   ? "R1"
                                  : r < 40 ? "R2"
                                  : r < 75 ? "R3"
                                  : r < 93 ? "R4"
                                           : "R5";

    std::string note = Note(p);

    AppendField(buf, code);
    buf.push_back(',');
    AppendField(buf, p.name);
    buf.push_back(',');
    buf.append(p.male ? "男" : "女");
    buf.push_back(',');
    AppendField(buf, p.id);
    buf.push_back(',');
    AppendField(buf, p.mobile);
    buf.push_back(',');
    AppendField(buf, p.landline);
    buf.push_back(',');
    AppendField(buf, p.email);
    buf.push_back(',');
    AppendField(buf, card);
    buf.push_back(',');
    AppendField(buf, branch);
    buf.push_back(',');
    AppendField(buf, p.address);
    buf.push_back(',');
    AppendDate(buf, opened);
    buf.push_back(',');
    AppendField(buf, balance);
    buf.push_back(',');
    AppendField(buf, Pick(kManagers));
    buf.push_back(',');
    AppendField(buf, risk);
    buf.push_back(',');
    AppendField(buf, note);
    buf.append("\r\n");
  }

  // 备注: mostly empty or plain; about 10% mention one of the person's own
  // identifiers inside the text, as branch staff write them.
  std::string Note(const Person& p) {
    const int kind = rng_.Between(0, 99);
    if (kind < 55) return {};
    if (kind < 90) return std::string(Pick(kPlainNotes));
    const std::string mobile = *detect::NormalizeMobile(p.mobile);
    std::string note;
    switch (rng_.Between(0, 5)) {
      case 0:
        note.append("已电话联系").append(mobile).append("确认地址");
        break;
      case 1:
        note.append("客户新留手机").append(mobile.substr(0, 3)).append("-");
        note.append(mobile.substr(3, 4)).append("-").append(mobile.substr(7));
        break;
      case 2:
        if (p.email.empty()) {
          note.append("短信通知").append(mobile);
        } else {
          note.append("对账单发送至").append(p.email);
        }
        break;
      case 3:
        note.append("核对身份证").append(p.id).append("无误");
        break;
      case 4:
        if (p.landline.empty()) {
          note.append("请回电").append(mobile);
        } else {
          note.append("办公电话").append(p.landline).append("，工作日联系");
        }
        break;
      default:
        note.append("联系人").append(p.name).append(", 电话").append(mobile);
        break;
    }
    return note;
  }

  SampleOptions options_;
  Rng rng_;
  int64_t today_days_;
  Permutation mobiles_;
  Permutation emails_;
  Permutation cards16_;
  Permutation cards19_;
  std::vector<Place> places_;
  std::vector<Band> bands_;
  std::vector<PendingDuplicate> pending_;
  uint64_t person_count_ = 0;
  uint64_t customer_code_ = 0;
};

}  // namespace

std::span<const std::string_view> SampleColumns() { return kColumns; }

Status WriteSampleCsv(const SampleOptions& options, std::ostream& out) {
  const Date& t = options.today;
  if (!IsValidDate(t.year, t.month, t.day) || t.year < 2000 || t.year > 9999) {
    return Fail(InvalidArgument("sample: today must be a valid date between 2000 and 9999"));
  }
  if (options.rows > kMaxSampleRows) {
    return Fail(InvalidArgument("sample: at most " + std::to_string(kMaxSampleRows) + " rows"));
  }
  Generator generator(options);
  RETURN_IF_ERROR(generator.Init());
  return generator.Write(out);
}

}  // namespace custos::workflow
