#include "datasets/dataset.h"

#include "common/config.h"
#include "datasets/bigquery_dataset.h"
#include "datasets/sqlite_dataset.h"

namespace tandem {

std::unique_ptr<Dataset> OpenDataset(const Config& config, Color color) {
  const DatasetConfig& d = config.color(color).dataset;
  if (d.kind == "sqlite") return std::make_unique<SqliteDataset>(ForColor(d.path, color));
  return std::make_unique<BigQueryDataset>(d, color, config.pipeline.tls_ca_file);
}

}  // namespace tandem
