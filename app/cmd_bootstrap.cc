// `tandem bigquery bootstrap -c FILE --color C`.
#include <iostream>

#include "app/commands.h"
#include "common/config.h"
#include "datasets/dataset.h"

namespace tandem::app {

int Bootstrap(const std::string& file, Color color) {
  Config c = LoadConfig(file);
  auto dataset = OpenDataset(c, color);
  if (Status st = dataset->Bootstrap(); !st.ok()) {
    std::cerr << "bootstrap of the " << ColorName(color) << " dataset failed: " << st.message()
              << "\n";
    return 1;
  }
  const DatasetConfig& d = c.color(color).dataset;
  std::cout << "the " << ColorName(color) << " dataset is ready ("
            << (d.kind == "sqlite" ? ForColor(d.path, color)
                                   : d.project + "." + ForColor(d.dataset, color))
            << "): raw, deliveries, rejected, raw_normalized\n";
  return 0;
}

}  // namespace tandem::app
