"""A Key Management Service speaking the AWS KMS JSON 1.1 protocol."""
