using AgentTheater.Grains.Scenarios;
using Microsoft.AspNetCore.Http;

namespace AgentTheater.Web.Api;

/// <summary>
/// Turns what the theater throws into problem+json: a bad request (400, a scenario's errors listed with line, column
/// and field), something not found (404), a request that does not fit the state of things (409).
/// </summary>
internal static class ApiErrors
{
    /// <summary>The endpoint filter of the <c>/api</c> group.</summary>
    public static async ValueTask<object?> HandleAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ScenarioValidationException e)
        {
            return TypedResults.Problem(
                title: e.Errors.Count == 1 ? "The scenario has 1 error" : $"The scenario has {e.Errors.Count} errors",
                detail: e.Message,
                statusCode: StatusCodes.Status400BadRequest,
                extensions: new Dictionary<string, object?>
                {
                    ["errors"] = e.Errors.Select(error => new { error.Line, error.Column, error.Field, error.Message }).ToList(),
                });
        }
        catch (NotFoundException e)
        {
            return TypedResults.Problem(title: "Not found", detail: e.Message, statusCode: StatusCodes.Status404NotFound);
        }
        catch (ArgumentException e)
        {
            return TypedResults.Problem(title: "Bad request", detail: e.Message, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(title: "Conflict", detail: e.Message, statusCode: StatusCodes.Status409Conflict);
        }
    }
}

/// <summary>A run, scene or character the request names does not exist.</summary>
/// <param name="message">What was not found.</param>
internal sealed class NotFoundException(string message) : Exception(message);
