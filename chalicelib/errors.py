"""The exception hierarchy: one class per AWS KMS error code, rendered once in api/.

`code` is the wire `__type`; `status` the HTTP status AWS answers with. Messages are what a caller
may read, so they never carry plaintext or key material.
"""

from __future__ import annotations


class KmsError(Exception):
    """Base of every error a caller may see."""

    code = "KMSInternalException"
    status = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class KMSInternalException(KmsError):
    """Retryable: the service or one of its dependencies failed."""

    code = "KMSInternalException"


class DependencyTimeoutException(KmsError):
    """Retryable: a dependency (store, HSM) did not answer in time."""

    code = "DependencyTimeoutException"


class KeyUnavailableException(KmsError):
    code = "KeyUnavailableException"


class ClientError(KmsError):
    """A fault in the request; HTTP 400, not retried."""

    status = 400


class AccessDeniedException(ClientError):
    code = "AccessDeniedException"


class AlreadyExistsException(ClientError):
    code = "AlreadyExistsException"


class ConflictException(ClientError):
    code = "ConflictException"


class DisabledException(ClientError):
    code = "DisabledException"


class DryRunOperationException(ClientError):
    code = "DryRunOperationException"


class IncorrectKeyException(ClientError):
    code = "IncorrectKeyException"


class InvalidAliasNameException(ClientError):
    code = "InvalidAliasNameException"


class InvalidArnException(ClientError):
    code = "InvalidArnException"


class InvalidCiphertextException(ClientError):
    code = "InvalidCiphertextException"


class InvalidGrantTokenException(ClientError):
    code = "InvalidGrantTokenException"


class InvalidKeyUsageException(ClientError):
    code = "InvalidKeyUsageException"


class InvalidMarkerException(ClientError):
    code = "InvalidMarkerException"


class KMSInvalidStateException(ClientError):
    code = "KMSInvalidStateException"


class LimitExceededException(ClientError):
    code = "LimitExceededException"


class MalformedPolicyDocumentException(ClientError):
    code = "MalformedPolicyDocumentException"


class NotFoundException(ClientError):
    code = "NotFoundException"


class KeyDeletedException(NotFoundException):
    """NotFoundException on the wire; tells Decrypt that the blob's key existed and was deleted."""


class SerializationException(ClientError):
    code = "SerializationException"


class TagException(ClientError):
    code = "TagException"


class ThrottlingException(ClientError):
    code = "ThrottlingException"


class UnknownOperationException(ClientError):
    code = "UnknownOperationException"


class UnsupportedOperationException(ClientError):
    code = "UnsupportedOperationException"


class ValidationException(ClientError):
    code = "ValidationException"


class NotAuthorizedException(ClientError):
    """Not in the botocore model, but what AWS answers for the reserved alias/aws/ prefix."""

    code = "NotAuthorizedException"
