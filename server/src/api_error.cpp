#include "awq/serve/api_error.h"

namespace awq::serve {

ApiError::ApiError(int status, std::string message, std::string param, std::string code)
    : std::runtime_error(std::move(message)), m_status(status), m_param(std::move(param)), m_code(std::move(code))
{
}

std::string ApiError::type() const
{
    switch (m_status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return m_status >= 500 ? "server_error" : "invalid_request_error";
    }
}

nlohmann::json ApiError::toJson() const
{
    using nlohmann::json;
    return json{{"error",
                 {{"message", what()},
                  {"type", type()},
                  {"param", m_param.empty() ? json(nullptr) : json(m_param)},
                  {"code", m_code.empty() ? json(nullptr) : json(m_code)}}}};
}

nlohmann::json errorBodyForStatus(int status)
{
    switch (status) {
    case 400: return ApiError(400, "the request is malformed").toJson();
    case 404: return ApiError(404, "there is no such endpoint; this server answers GET /health, GET /v1/models, "
                                   "POST /v1/chat/completions and POST /v1/completions", {}, "unknown_url").toJson();
    case 405: return ApiError(405, "method not allowed").toJson();
    case 413: return ApiError(413, "the request body is larger than this server accepts", {}, "request_too_large").toJson();
    case 414: return ApiError(414, "the request URI is too long").toJson();
    default: return ApiError(status, "HTTP error " + std::to_string(status)).toJson();
    }
}

} // namespace awq::serve
