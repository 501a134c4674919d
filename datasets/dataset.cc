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

std::unique_ptr<Dataset> OpenDataset(const Config& config, Color color) {
  const DatasetConfig& d = config.color(color).dataset;
  if (d.kind == "sqlite") return std::make_unique<SqliteDataset>(ForColor(d.path, color));
  return std::make_unique<BigQueryDataset>(d, color, config.pipeline.tls_ca_file);
}

}  // namespace tandem
