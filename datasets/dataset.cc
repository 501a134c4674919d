#include "datasets/dataset.h"

#include "common/config.h"
#include "datasets/bigquery_dataset.h"
#include "datasets/sqlite_dataset.h"

namespace tandem {

Status Dataset::QueryEach(const std::string& sql, const RowFn& row) {
  std::vector<std::vector<std::string>> rows;
  Status s = Query(sql, rows);
  if (!s.ok()) return s;
  std::vector<std::string_view> views;
  for (const auto& r : rows) {
    views.assign(r.begin(), r.end());
    row(views);
  }
  return s;
}

OutcomesWriteResult Dataset::InsertOutcomes(const std::vector<DeliveryRow>& deliveries,
                                            const std::vector<RejectedRow>& rejected) {
  OutcomesWriteResult out;
  if (!deliveries.empty()) {
    WriteResult w = InsertDeliveries(deliveries);
    out.status = w.status;
    out.deliveries_refused = std::move(w.refused);
    if (!out.status.ok()) return out;
  }
  if (!rejected.empty()) {
    WriteResult w = InsertRejected(rejected);
    out.status = w.status;
    out.rejected_refused = std::move(w.refused);
  }
  return out;
}

std::string TimeLiteral(const Dataset& d, const std::string& unix_ms) {
  return d.dialect() == SqlDialect::kBigQuery ? "TIMESTAMP_MILLIS(" + unix_ms + ")" : unix_ms;
}

std::string TimeBetween(const Dataset& d, const std::string& column, int64_t start_ms,
                        int64_t end_ms) {
  return column + " >= " + TimeLiteral(d, std::to_string(start_ms)) + " AND " + column + " < " +
         TimeLiteral(d, std::to_string(end_ms));
}

std::unique_ptr<Dataset> OpenDataset(const Config& config, Color color) {
  const DatasetConfig& d = config.color(color).dataset;
  if (d.kind == "sqlite") return std::make_unique<SqliteDataset>(ForColor(d.path, color));
  return std::make_unique<BigQueryDataset>(d, color, config.pipeline.tls_ca_file);
}

}  // namespace tandem
