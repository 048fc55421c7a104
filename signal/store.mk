# sig-accounts, sig-config, sotto-admin
