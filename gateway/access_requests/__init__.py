"""Access requests (Pengajuan akses): a consumer asks, each data-owning OPD decides its part."""
