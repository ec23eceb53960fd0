//! Turns SDK errors into [`AwsError`]s classified by what the user can do.

use aws_sdk_sts::error::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use pricewatch_core::cloud::{AwsError, AwsErrorKind};

pub fn classify<E, R>(operation: &str, error: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = error.code().map(str::to_string);
    let message = match &error {
        // The chain of causes says which limit ran out and after how long
        // ("operation timeout (all attempts including retries) occurred
        // after 60s"), without the debug dump DisplayErrorContext adds.
        SdkError::TimeoutError(_) => causes(&error),
        _ => error
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| DisplayErrorContext(&error).to_string()),
    };
    let kind = match (&error, code.as_deref()) {
        (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_), _)
            if message.contains("credentials") =>
        {
            AwsErrorKind::Credentials
        }
        (SdkError::TimeoutError(_), _) => AwsErrorKind::TimedOut,
        (SdkError::DispatchFailure(_), _) => AwsErrorKind::Unavailable,
        (_, Some(code)) => kind_of(code),
        _ if message.contains("credentials") => AwsErrorKind::Credentials,
        _ => AwsErrorKind::Other,
    };
    AwsError {
        operation: operation.to_string(),
        kind,
        code,
        message,
    }
}

/// An error and its causes, one after the other.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn kind_of(code: &str) -> AwsErrorKind {
    match code {
        "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId" => AwsErrorKind::Credentials,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            AwsErrorKind::AccessDenied
        }
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown"
        | "ActiveStatementsExceededException" => AwsErrorKind::Throttled,
        "ValidationError"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "InsufficientCapabilitiesException" => AwsErrorKind::Invalid,
        "ServiceUnavailable" | "InternalFailure" | "InternalError" => AwsErrorKind::Unavailable,
        "ResourceNotFoundException" => AwsErrorKind::NotFound,
        "ResourceExistsException" | "ConflictException" => AwsErrorKind::Conflict,
        "LimitExceededException" => AwsErrorKind::LimitExceeded,
        _ => AwsErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_the_user_can_do() {
        assert_eq!(kind_of("ExpiredToken"), AwsErrorKind::Credentials);
        assert_eq!(kind_of("AccessDenied"), AwsErrorKind::AccessDenied);
        assert_eq!(kind_of("Throttling"), AwsErrorKind::Throttled);
        assert_eq!(kind_of("ValidationError"), AwsErrorKind::Invalid);
        assert_eq!(kind_of("Whatever"), AwsErrorKind::Other);
    }
}
