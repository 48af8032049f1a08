using AgentTheater.Client.Commands;

return await AgentTheaterCommand.Create().Parse(args).InvokeAsync();
