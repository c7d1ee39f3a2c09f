"""Tidal's log: record batches, the partitioned storage engine, and (later) the
wire protocol, broker and client built on them."""
