using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Prm.Workflows;

namespace Prm.Functions.Tests;

public sealed class WorkflowFunctionTests
{
    [Fact]
    public void Every_orchestrator_and_activity_has_a_function_wrapper_named_like_its_class_and_nothing_else()
    {
        var wrapped = FunctionCatalog().ToList();
        var orchestrators = wrapped.Where(w => w.Trigger == typeof(OrchestrationTriggerAttribute)).Select(w => w.Name);
        var activities = wrapped.Where(w => w.Trigger == typeof(ActivityTriggerAttribute)).Select(w => w.Name);
        orchestrators.Should().BeEquivalentTo(WorkflowRegistry.Orchestrators.Select(t => t.Name));
        activities.Should().BeEquivalentTo(WorkflowRegistry.Activities.Select(t => t.Name));
    }

    private static IEnumerable<(string Name, Type Trigger)> FunctionCatalog() =>
        Prm.Functions.Http.FunctionCatalog.Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Function: m.GetCustomAttribute<FunctionAttribute>(), Method: m))
            .Where(x => x.Function is not null)
            .SelectMany(x => x.Method.GetParameters()
                .SelectMany(p => p.GetCustomAttributes())
                .Where(a => a is OrchestrationTriggerAttribute or ActivityTriggerAttribute)
                .Select(a => (x.Function!.Name, a.GetType())));
}
