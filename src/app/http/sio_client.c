/*
 * GET /socket.io/socket.io.min.js: the browser client from the npm package
 * socket.io-client, which the Makefile compiles into the binary as an asset
 * (it is not under assets/). kodev only knows assets/, so a kodev build has
 * this weak stand-in instead, and answers 404.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

int	asset_serve_socket_io_min_js(struct http_request *)
	    __attribute__((weak));

int
asset_serve_socket_io_min_js(struct http_request *req)
{
	const char	*msg = "socket.io.min.js is built in by make, not kodev\n";

	http_response_header(req, "content-type", "text/plain");
	http_response(req, 404, msg, strlen(msg));
	return (KORE_RESULT_OK);
}
