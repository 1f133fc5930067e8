#include "dataplane/pipeline/mbuf_pool.h"

#include <rte_mbuf.h>

#include "dataplane/pipeline/meta.h"

namespace weft::dp {

rte_mempool* create_mbuf_pool(const MbufPoolConfig& cfg) {
  return rte_pktmbuf_pool_create(cfg.name, cfg.mbufs, cfg.cache, kMetaPrivSize, cfg.data_room,
                                 cfg.socket);
}

}  // namespace weft::dp
