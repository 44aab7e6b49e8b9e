package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/** Turns {@link ToolFunction} methods into tools: Java types become the reference's Python type names and back. */
final class MethodTools {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MethodTools() {
    }

    static List<Tool> of(Object target) {
        var tools = new ArrayList<Tool>();
        for (Method m : target.getClass().getDeclaredMethods()) {
            ToolFunction f = m.getAnnotation(ToolFunction.class);
            if (f != null) {
                tools.add(tool(target, m, f));
            }
        }
        if (tools.isEmpty()) {
            throw new IllegalArgumentException(target.getClass().getName() + " has no @ToolFunction methods");
        }
        tools.sort((a, b) -> a.name().compareTo(b.name())); // reflection gives no stable order
        return tools;
    }

    private static Tool tool(Object target, Method m, ToolFunction f) {
        String name = f.name().isEmpty() ? m.getName() : f.name();
        var params = new ArrayList<ToolParameter>();
        for (Parameter p : m.getParameters()) {
            Param a = p.getAnnotation(Param.class);
            if (a == null) {
                throw new IllegalArgumentException("parameter " + p.getName() + " of tool " + name + " needs @Param");
            }
            if (!a.required() && p.getType().isPrimitive()) {
                throw new IllegalArgumentException("optional parameter '" + a.name() + "' of tool " + name
                        + " must have a reference type (it is null when left out)");
            }
            params.add(new ToolParameter(a.name(), a.description(), a.type().isEmpty() ? pythonType(p.getParameterizedType()) : a.type(), a.required()));
        }
        m.setAccessible(true); // tool classes are often package-private
        return Tool.of(name, f.description(), params, args -> invoke(target, m, params, args));
    }

    private static String invoke(Object target, Method m, List<ToolParameter> params, ToolArguments args) throws Exception {
        Parameter[] ps = m.getParameters();
        Object[] values = new Object[ps.length];
        for (int i = 0; i < ps.length; i++) {
            String name = params.get(i).name();
            values[i] = args.has(name) ? convert(args, name, ps[i].getParameterizedType()) : null;
        }
        try {
            return str(m.invoke(Modifier.isStatic(m.getModifiers()) ? null : target, values));
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    /** Python's {@code str()} of a result: strings as they are, everything else as its repr. */
    static String str(Object result) {
        return switch (result) {
            case null -> "None";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Double d -> PythonRepr.floatRepr(d);
            case Float f -> PythonRepr.floatRepr(f);
            case JsonNode n -> n.isTextual() ? n.textValue() : PythonRepr.of(n);
            default -> PythonRepr.of(JSON.valueToTree(result));
        };
    }

    private static Object convert(ToolArguments args, String name, Type type) throws ToolException {
        Class<?> raw = raw(type);
        JsonNode v = args.node(name);
        if (raw == String.class) {
            return args.string(name);
        }
        if (raw == int.class || raw == Integer.class) {
            return args.integer(name).intValueExact();
        }
        if (raw == long.class || raw == Long.class) {
            return args.integer(name).longValueExact();
        }
        if (raw == BigInteger.class) {
            return args.integer(name);
        }
        if (raw == double.class || raw == Double.class) {
            return args.number(name);
        }
        if (raw == float.class || raw == Float.class) {
            return (float) args.number(name);
        }
        if (raw == BigDecimal.class) {
            args.number(name);
            return v.decimalValue();
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return args.bool(name);
        }
        if (JsonNode.class.isAssignableFrom(raw)) {
            return v;
        }
        try {
            return JSON.convertValue(v, JSON.constructType(type));
        } catch (IllegalArgumentException e) {
            throw ToolException.typeError("argument '" + name + "' must be " + pythonType(type) + ", not "
                    + ToolArguments.pythonType(v));
        }
    }

    static String pythonType(Type type) {
        Class<?> raw = raw(type);
        if (raw == String.class) {
            return "str";
        }
        if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class || raw == BigInteger.class
                || raw == short.class || raw == Short.class) {
            return "int";
        }
        if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class || raw == BigDecimal.class) {
            return "float";
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return "bool";
        }
        if (List.class.isAssignableFrom(raw)) {
            return type instanceof ParameterizedType pt ? "list[" + pythonType(pt.getActualTypeArguments()[0]) + "]" : "list";
        }
        if (java.util.Map.class.isAssignableFrom(raw) || JsonNode.class.isAssignableFrom(raw)) {
            return "dict";
        }
        return raw.getSimpleName();
    }

    private static Class<?> raw(Type type) {
        if (type instanceof Class<?> c) {
            return c;
        }
        if (type instanceof ParameterizedType pt) {
            return (Class<?>) pt.getRawType();
        }
        return Object.class;
    }
}
