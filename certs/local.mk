# certs/ build fragment
