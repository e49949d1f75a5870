#pragma once
// ApiError: an error answered to an HTTP client in OpenAI's shape,
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "temperature", "code": null}}
// with the status code OpenAI uses for it (400 bad request, 401 bad key, 404 unknown model or
// route, 413 body too large, 429 queue full, 503 shutting down, 500 a bug of ours).

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace awq::serve {

class ApiError : public std::runtime_error
{
public:
    ApiError(int status, std::string message, std::string param = {}, std::string code = {});

    int status() const { return m_status; }
    const std::string &param() const { return m_param; }
    const std::string &code() const { return m_code; }
    // "invalid_request_error", "authentication_error", "not_found_error", "rate_limit_error",
    // "server_error" by status.
    std::string type() const;
    nlohmann::json toJson() const;

private:
    int m_status;
    std::string m_param, m_code;
};

// The error body for a status without a specific message (an unknown route, a body over
// the limit as the HTTP library refuses it).
nlohmann::json errorBodyForStatus(int status);

} // namespace awq::serve
