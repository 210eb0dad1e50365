"""Email: parsing raw MIME into normalized messages, and sending replies over SMTP."""
